"""Reports of promote, rollback, status and expire."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from tagmgr.lifecycle.execute_expiry import DONE, NOT_STARTED, RunResults
from tagmgr.lifecycle.expiry import ExpiryDecision, ExpiryVerdict, RepositoryPlan
from tagmgr.lifecycle.holdings import RFC3339
from tagmgr.lifecycle.promotion import Promotion, PromotionOutcome, PromotionResult, Reading
from tagmgr.lifecycle.status import DigestNames, EnvironmentStatus, RepositoryStatus
from tagmgr.report.markdown import code, plain
from tagmgr.report.model import Located, Place, Report, Row, counted, many

MOVE_RESULTS = (
    "present",
    "planned",
    "promoted",
    "rolled-back",
    "superseded",
    "unrecorded",
    "vanished",
    "not-started",
)
"""What a promote or rollback came to: ``result`` in its JSON, one count each in ``summary``."""
_DELETION_RESULTS = ("deleted", "gone", "skipped", "failed", NOT_STARTED)
_AFTER_DELETING = {
    "gone": "already gone",
    "failed": "failed",
    "skipped": "skipped",
    NOT_STARTED: "not started",
}
"""How the summary line names each result but ``deleted``, said only when there is one."""


def promotion_record(
    promotion: Promotion, result: str, outcome: PromotionOutcome | None = None
) -> dict[str, Any]:
    """``outcome`` once carried out; ``now`` is the environment as read last."""
    reading = outcome.after if outcome else promotion.before
    return {
        "move": promotion.move.value,
        "source": str(promotion.source),
        "repository": promotion.destination.name,
        "environment": promotion.environment,
        "digest": promotion.digest,
        "previous_digest": promotion.current,
        "history_tag": _recorded_by(promotion, reading, outcome),
        "copy": promotion.copy,
        "reason": promotion.reason,
        "signed_by": list(promotion.signed_by),
        "result": result,
        "now": {
            "digest": reading.at,
            "history_tag": reading.newest.tag if reading.newest else None,
        },
    }


def moved(
    promotion: Promotion,
    result: str,
    outcome: PromotionOutcome | None = None,
    *,
    names: tuple[DigestNames, DigestNames] | None = None,
) -> Report:
    """A promotion or rollback: planned, found done already, or carried out (``outcome``).

    ``names``: what the digest now there and the one to come are known by, for a person asked
    to confirm the move.
    """
    where = _history_where(promotion, outcome)
    lines = _moved_lines(promotion, result, where, names)
    problem = None
    if outcome is not None and outcome.result is not PromotionResult.MOVED:
        problem = outcome_problem(promotion, outcome)
    # Not errors: another writer, a stop.
    quiet = (PromotionResult.SUPERSEDED, PromotionResult.NOT_STARTED)
    label = "" if outcome is not None and outcome.result in quiet else "error: "
    cells = (
        result,
        code(str(promotion.environment_ref)),
        code(promotion.digest),
        code(promotion.current or "nothing"),
        plain(where),
    )
    return Report(
        promotion.move.value,
        {"promotion": promotion_record(promotion, result, outcome)},
        counted(MOVE_RESULTS, [result]),
        rows=(Row("\n".join(lines), cells),),
        columns=("", "environment", "digest", "was", "history"),
        headline=f"{result}: {promotion.environment_ref} -> {promotion.digest}; "
        f"allowed: {promotion.reason}",
        problems=(Located(Place(), problem),) if problem else (),
        warnings=(f"tagmgr: {label}{problem}",) if problem else (),
    )


def _history_where(promotion: Promotion, outcome: PromotionOutcome | None) -> str:
    """The history tag that records the move, or where the environment and its history stand."""
    reading = outcome.after if outcome else promotion.before
    recorded = _recorded_by(promotion, reading, outcome)
    if recorded:
        return f"history tag {recorded}"
    newest = reading.newest.tag if reading.newest else "none"
    return f"now at {reading.at or 'nothing'}, newest history tag {newest}"


def _moved_lines(
    promotion: Promotion,
    result: str,
    where: str,
    names: tuple[DigestNames, DigestNames] | None,
) -> list[str]:
    was = promotion.current or "nothing"
    lines = [
        f"{result:<10} {promotion.environment_ref} -> {promotion.digest} (was {was})",
        f"{'':<10} {where}; allowed: {promotion.reason}",
    ]
    if promotion.signed_by:
        lines.append(f"{'':<10} signed (cosign) by {', '.join(promotion.signed_by)}")
    if promotion.copy:
        lines.append(f"{'':<10} copied first from {promotion.source}, digest kept")
    if names is not None:
        env = promotion.environment
        lines.append(f"{'':<10} from: {_digest_names(names[0], f'in {env} since')}")
        lines.append(f"{'':<10} to:   {_digest_names(names[1], f'was in {env} from')}")
    return lines


def _digest_names(names: DigestNames, recorded: str) -> str:
    if names.digest is None:
        return "nothing"
    builds = ", ".join(names.builds) or "no build tag read"
    text = f"{names.digest}  {builds}"
    if names.releases:
        text += f"; also {', '.join(names.releases)}"
    if names.recorded is not None:
        at = names.recorded.time.strftime("%Y-%m-%d %H:%M:%S UTC")
        text += f"; {recorded} {at} ({names.recorded.tag})"
    return text


def outcome_problem(promotion: Promotion, outcome: PromotionOutcome) -> str:
    """Why ``outcome`` is not the move asked for, in one sentence."""
    env, at = promotion.environment_ref, outcome.after.at or "nothing"
    if outcome.result is PromotionResult.SUPERSEDED:
        when = "after this run's write" if outcome.wrote else "since the plan; this run left it"
        return f"{env} was moved to {at} by another writer {when}"
    if outcome.result is PromotionResult.UNRECORDED:
        unrecorded = f"no history tag could record {env} -> {promotion.digest} ({outcome.problem})"
        if outcome.after.at != promotion.digest:
            return f"{unrecorded}; {env} is back at {at}"
        again = f"promoting that digest to {promotion.environment} again records it"
        return f"{unrecorded}; {env} points at it: {again}"
    return f"{outcome.problem}; {env} points at {at}"


def _recorded_by(
    promotion: Promotion, reading: Reading, outcome: PromotionOutcome | None
) -> str | None:
    """The history tag that records the move: the one planned, or the newest if it says so."""
    if outcome is None and promotion.changes:
        return promotion.history.tag
    if reading.newest is not None and reading.agrees and reading.at == promotion.digest:
        return reading.newest.tag
    return None


def status(repositories: Sequence[RepositoryStatus], *, verbose: bool = False) -> Report:
    records = [
        {
            "name": repository.name,
            "environments": [_status_record(env) for env in repository.environments],
        }
        for repository in repositories
    ]
    environments = [env for repository in repositories for env in repository.environments]
    counts = counted(("set", "not-set"), ("set" if e.digest else "not-set" for e in environments))
    rows: list[Row] = []
    for repository in repositories:
        rows.append(Row(repository.name))
        rows += [
            Row(_status_text(env, verbose), _status_cells(repository, env))
            for env in repository.environments
        ]
    return Report(
        "status",
        {"repositories": records},
        {"repositories": len(repositories), **counts},
        rows=tuple(rows),
        columns=("repository", "environment", "digest", "since", "build tags"),
        headline=f"{many(len(repositories), 'repository', 'repositories')}, "
        f"{many(counts['set'], 'environment')} set, {counts['not-set']} not set",
    )


def _status_record(env: EnvironmentStatus) -> dict[str, Any]:
    return {
        "environment": env.environment,
        "digest": env.digest,
        "since": env.since,
        "build_tags": list(env.build_tags),
        "release_tags": list(env.release_tags),
        "src_refs": list(env.src_refs),
        "history": [{"tag": tag, "digest": digest} for tag, digest in env.history],
        "in_use": list(env.in_use),
    }


SHOWN_HISTORY = 5
"""History entries status shows per environment, newest first (``-v``: all of them)."""


def _history_lines(env: EnvironmentStatus, verbose: bool) -> list[str]:
    """The history ``rollback --to`` takes, newest first."""
    entries = list(reversed(env.history))
    shown = entries if verbose else entries[:SHOWN_HISTORY]
    lines = [
        f"  {'':<6} {'history:' if index == 0 else '':<8} {tag}  {digest}"
        for index, (tag, digest) in enumerate(shown)
    ]
    if len(entries) > len(shown):
        lines.append(f"  {'':<6} {'':<8} and {len(entries) - len(shown)} older (-v lists them)")
    return lines


def _status_text(env: EnvironmentStatus, verbose: bool) -> str:
    return "\n".join([*_status_lines(env), *_history_lines(env, verbose)])


def _status_lines(env: EnvironmentStatus) -> list[str]:
    if env.digest is None:
        return [f"  {env.environment:<6} not set"]
    since = f"since {env.since}" if env.since else "since unknown (no history tag)"
    lines = [f"  {env.environment:<6} {env.digest}  {since}"]
    for label, values in (
        ("build", env.build_tags),
        ("release", env.release_tags),
        ("src_ref", env.src_refs),
    ):
        if values:
            lines.append(f"  {'':<6} {label}: {', '.join(values)}")
    lines += [f"  {'':<6} in use: {where}" for where in env.in_use]
    return lines


def _status_cells(repository: RepositoryStatus, env: EnvironmentStatus) -> tuple[str, ...]:
    return (
        code(repository.name),
        env.environment,
        code(env.digest) if env.digest else "not set",
        code(env.since) if env.since else "",
        ", ".join(map(code, env.build_tags)),
    )


def expiry(
    plans: Sequence[RepositoryPlan],
    results: RunResults | None = None,
    *,
    verbose: bool = False,
) -> Report:
    """The decisions; ``results`` (repository -> digest -> deleted, gone, skipped: ...,
    failed: ..., not-started) once deletion ran."""
    done = [(plan, (results or {}).get(plan.holdings.name, {})) for plan in plans]
    every = [result.split(":")[0] for _, found in done for result in found.values()]
    return Report(
        "expire",
        {"repositories": [_plan_record(plan, found) for plan, found in done]},
        {
            **counted(ExpiryVerdict, (d.verdict for plan in plans for d in plan.decisions)),
            **counted(_DELETION_RESULTS, every),
            "refused": sum(1 for plan in plans if plan.refusal),
            "repositories": len(plans),
        },
        rows=tuple(row for plan, found in done for row in _plan_rows(plan, found, verbose)),
        columns=("", "image", "tags", "time", "reasons"),
        summary_line=_expiry_summary(plans, None if results is None else every),
        problems=_expiry_problems(done),
        warnings=tuple(
            f"tagmgr: error: {problem}"
            for plan in plans
            for problem in [*plan.holdings.problems, *filter(None, [plan.refusal])]
        ),
    )


def _expiry_summary(plans: Sequence[RepositoryPlan], results: list[str] | None) -> str:
    """``3 to delete, 5 kept, in 2 repositories``; once run, what was deleted, and what was
    already gone, failed, skipped or not started. A refusal stops the whole run, so then the line
    says that nothing was deleted."""
    deleting = sum(len(plan.deletions) for plan in plans)
    kept = sum(len(plan.decisions) for plan in plans) - deleting
    where = "repository" if len(plans) == 1 else "repositories"
    refused = sum(1 for plan in plans if plan.refusal)
    if refused:
        return (
            f"nothing deleted, {refused} of {len(plans)} {where} refused"
            f" (the policy would delete {deleting} and keep {kept})"
        )
    if results is None:
        return f"{deleting} to delete, {kept} kept, in {len(plans)} {where}"
    tally = counted(_DELETION_RESULTS, results)
    others = [
        f"{tally[result]} {label}" for result, label in _AFTER_DELETING.items() if tally[result]
    ]
    counts = [f"{tally['deleted']} deleted", *others]
    return f"{', '.join(counts)}, {kept} kept, in {len(plans)} {where}"


def _expiry_problems(done: list[tuple[RepositoryPlan, Mapping[str, str]]]) -> tuple[Located, ...]:
    """What the survey found broken, each refusal, and each DELETE that failed."""
    plans = [plan for plan, _ in done]
    failures = [
        Located(Place(), f"{plan.holdings.name}@{d.held.digest}: {result}")
        for plan, found in done
        for d in plan.decisions
        if (result := found.get(d.held.digest)) and result.split(":")[0] not in {*DONE, NOT_STARTED}
    ]
    return (
        *(Located(Place(), problem) for plan in plans for problem in plan.holdings.problems),
        *(Located(Place(), f"refused: {plan.refusal}") for plan in plans if plan.refusal),
        *failures,
    )


def _plan_rows(plan: RepositoryPlan, results: Mapping[str, str], verbose: bool) -> list[Row]:
    """Each decision worth a row; the repository's problems and refusal are the report's
    problems, each naming the repository, so they are said there and not again here."""
    return [
        _decision_row(plan, decision, results.get(decision.held.digest))
        for decision in plan.decisions
        if verbose or decision.verdict is ExpiryVerdict.DELETE or _picked(decision)
    ]


def _picked(decision: ExpiryDecision) -> bool:
    """Kept although a rule picked it: the protections worth showing."""
    return bool(decision.reasons) and decision.reasons[0].endswith(", but kept")


def _decision_row(plan: RepositoryPlan, decision: ExpiryDecision, result: str | None) -> Row:
    held = decision.held
    word = result or decision.verdict.value
    tags = ", ".join(held.tags) or "no tags"
    lines = [f"{word:<8} {plan.holdings.name}@{held.digest}  ({tags}; {decision.time})"]
    lines += [f"{'':<8} {reason}" for reason in decision.reasons]
    cells = (
        plain(word),
        code(f"{plan.holdings.name}@{held.digest[:19]}"),
        ", ".join(map(code, held.tags)) or "no tags",
        plain(str(decision.time)),
        plain("; ".join(decision.reasons)),
    )
    kept = decision.verdict is ExpiryVerdict.KEEP
    return Row("\n".join(lines), cells, change=not kept, kind="kept" if kept else word)


def _plan_record(plan: RepositoryPlan, results: Mapping[str, str]) -> dict[str, Any]:
    return {
        "name": plan.holdings.name,
        "refused": plan.refusal,
        "problems": plan.holdings.problems,
        "images": [
            {
                "digest": d.held.digest,
                "media_type": d.held.media_type,
                "tags": list(d.held.tags),
                "time": d.time.when.strftime(RFC3339) if d.time.when else None,
                "time_source": d.time.source.value,
                "time_tag": d.time.tag,
                "action": d.verdict.value,
                "reasons": list(d.reasons),
                "result": results.get(d.held.digest),
            }
            for d in plan.decisions
        ],
    }
