"""Text and JSON for promote, rollback, status and expire, through report.py's JSON writer.

Each function takes the ``--output`` name; JSON documents have the shape every tagmgr document
has: ``{"format": 1, "command": ..., ...}``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import IO, Any

from tagmgr.lifecycle.expiry import Decision, RepositoryPlan, Verdict
from tagmgr.lifecycle.holdings import RFC3339
from tagmgr.lifecycle.promotion import Outcome, Promotion, Reading, Result
from tagmgr.lifecycle.status import DigestNames, EnvironmentStatus, RepositoryStatus
from tagmgr.report import JSON_FORMAT_VERSION, dump_json


def promotion_record(
    promotion: Promotion, result: str, outcome: Outcome | None = None
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
        "result": result,
        "now": {
            "digest": reading.at,
            "history_tag": reading.newest.tag if reading.newest else None,
        },
    }


def report_promotion(
    output: str,
    stream: IO[str],
    promotion: Promotion,
    result: str,
    outcome: Outcome | None = None,
) -> None:
    if output == "json":
        document = {"format": JSON_FORMAT_VERSION, "command": promotion.move.value}
        record = promotion_record(promotion, result, outcome)
        dump_json({**document, "promotion": record}, stream)
        return
    was = promotion.current or "nothing"
    reading = outcome.after if outcome else promotion.before
    recorded = _recorded_by(promotion, reading, outcome)
    if recorded:
        where = f"history tag {recorded}"
    else:
        newest = reading.newest.tag if reading.newest else "none"
        where = f"now at {reading.at or 'nothing'}, newest history tag {newest}"
    lines = [
        f"{result:<10} {promotion.environment_ref} -> {promotion.digest} (was {was})",
        f"{'':<10} {where}; allowed: {promotion.reason}",
    ]
    if promotion.copy:
        lines.append(f"{'':<10} copied first from {promotion.source}, digest kept")
    stream.write("\n".join(lines) + "\n")


def outcome_problem(promotion: Promotion, outcome: Outcome) -> str:
    """Why ``outcome`` is not the move asked for, in one sentence."""
    env, at = promotion.environment_ref, outcome.after.at or "nothing"
    if outcome.result is Result.SUPERSEDED:
        when = "after this run's write" if outcome.wrote else "since the plan; this run left it"
        return f"{env} was moved to {at} by another writer {when}"
    if outcome.result is Result.UNRECORDED:
        unrecorded = f"no history tag could record {env} -> {promotion.digest} ({outcome.problem})"
        if outcome.after.at != promotion.digest:
            return f"{unrecorded}; {env} is back at {at}"
        again = f"promoting that digest to {promotion.environment} again records it"
        return f"{unrecorded}; {env} points at it: {again}"
    return f"{outcome.problem}; {env} points at {at}"


def _recorded_by(promotion: Promotion, reading: Reading, outcome: Outcome | None) -> str | None:
    """The history tag that records the move: the one planned, or the newest if it says so."""
    if outcome is None and promotion.changes:
        return promotion.history.tag
    if reading.newest is not None and reading.agrees and reading.at == promotion.digest:
        return reading.newest.tag
    return None


def report_move_names(
    stream: IO[str], promotion: Promotion, now: DigestNames, then: DigestNames
) -> None:
    """Under a planned move, for a person asked to confirm it: what each digest is."""
    env = promotion.environment
    lines = [f"{'':<10} from: {_digest_names(now, f'in {env} since')}"]
    lines.append(f"{'':<10} to:   {_digest_names(then, f'was in {env} from')}")
    stream.write("\n".join(lines) + "\n")


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


def report_status(
    output: str,
    stream: IO[str],
    repositories: Sequence[RepositoryStatus],
    *,
    verbose: bool = False,
) -> None:
    if output == "json":
        records = [
            {
                "name": repository.name,
                "environments": [_status_record(env) for env in repository.environments],
            }
            for repository in repositories
        ]
        dump_json(
            {"format": JSON_FORMAT_VERSION, "command": "status", "repositories": records}, stream
        )
        return
    for repository in repositories:
        stream.write(f"{repository.name}\n")
        for env in repository.environments:
            stream.write(_status_line(env) + _history_lines(env, verbose))


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


def _history_lines(env: EnvironmentStatus, verbose: bool) -> str:
    """The history ``rollback --to`` takes, newest first."""
    entries = list(reversed(env.history))
    shown = entries if verbose else entries[:SHOWN_HISTORY]
    lines = [
        f"  {'':<6} {'history:' if index == 0 else '':<8} {tag}  {digest}"
        for index, (tag, digest) in enumerate(shown)
    ]
    if len(entries) > len(shown):
        lines.append(f"  {'':<6} {'':<8} and {len(entries) - len(shown)} older (-v lists them)")
    return "".join(f"{line}\n" for line in lines)


def _status_line(env: EnvironmentStatus) -> str:
    if env.digest is None:
        return f"  {env.environment:<6} not set\n"
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
    return "\n".join(lines) + "\n"


def report_expiry(
    output: str,
    stream: IO[str],
    plans: Sequence[RepositoryPlan],
    results: dict[str, str] | None = None,
    *,
    verbose: bool = False,
) -> None:
    """The decisions; ``results`` (digest -> deleted, gone, skipped: ...) once deletion ran."""
    if output == "json":
        records = [_plan_record(plan, results or {}) for plan in plans]
        document = {"format": JSON_FORMAT_VERSION, "command": "expire", "repositories": records}
        dump_json(document, stream)
        return
    for plan in plans:
        for decision in plan.decisions:
            if verbose or decision.verdict is Verdict.DELETE or _picked(decision):
                stream.write(
                    _decision_text(plan, decision, (results or {}).get(decision.held.digest))
                )
        stream.writelines(f"problem: {problem}\n" for problem in plan.holdings.problems)
        if plan.refusal:
            stream.write(f"refused: {plan.refusal}\n")
    deleting = sum(len(plan.deletions) for plan in plans)
    total = sum(len(plan.decisions) for plan in plans)
    word = "deleted" if results is not None else "to delete"
    where = "repository" if len(plans) == 1 else "repositories"
    stream.write(f"\nexpire: {deleting} {word}, {total - deleting} kept, in {len(plans)} {where}\n")


def _picked(decision: Decision) -> bool:
    """Kept although a rule picked it: the protections worth showing."""
    return bool(decision.reasons) and decision.reasons[0].endswith(", but kept")


def _decision_text(plan: RepositoryPlan, decision: Decision, result: str | None) -> str:
    held = decision.held
    word = result or decision.verdict.value
    tags = ", ".join(held.tags) or "no tags"
    lines = [f"{word:<8} {plan.holdings.name}@{held.digest}  ({tags}; {decision.time})"]
    lines += [f"{'':<8} {reason}" for reason in decision.reasons]
    return "\n".join(lines) + "\n"


def _plan_record(plan: RepositoryPlan, results: dict[str, str]) -> dict[str, Any]:
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
