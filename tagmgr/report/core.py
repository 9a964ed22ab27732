"""Reports of the core commands: validate, plan, apply and describe.

The plan and target types are imported where they are rendered: ``validate`` renders none of
them, and runs on every commit (see ``tests/unit/commands/test_light_imports.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from tagmgr.reconcile.outcome import FAILED_RESULTS, Outcome, Result
from tagmgr.report.markdown import code, plain
from tagmgr.report.model import Located, Place, Report, Row, counted, many

if TYPE_CHECKING:
    from tagmgr.manifest.model import ImageEntry, Manifest
    from tagmgr.reconcile.plan import Action
    from tagmgr.reconcile.targets import Resolved

_RESULT_LABELS = {
    Result.CREATED: "created",
    Result.PRESENT: "present",
    Result.FAILED: "failed",
    Result.CONFLICT: "conflicts",
    Result.NOT_STARTED: "not started",
}
_ALWAYS_COUNTED = frozenset({Result.CREATED, Result.PRESENT, Result.FAILED})
_ENTRY_COLUMNS = ("", "target", "source", "digest", "manifest", "note")


def validated(manifests: Sequence[Manifest]) -> Report:
    files = [{"file": m.path, "images": len(m.entries)} for m in manifests]
    images = sum(len(m.entries) for m in manifests)
    return Report(
        "validate",
        {"files": files},
        {"files": len(files), "images": images},
        rows=tuple(
            Row(f"{m.path}: ok ({len(m.entries)} images)", (code(m.path), str(len(m.entries))))
            for m in manifests
        ),
        columns=("file", "images"),
        headline=f"valid: {many(images, 'image')} in {many(len(files), 'manifest')}",
    )


def planned(actions: Sequence[Action], *, verbose: bool = False) -> Report:
    from tagmgr.reconcile.plan import FAILED_KINDS, Kind

    counts = counted(Kind, (a.kind for a in actions))
    return Report(
        "plan",
        {"entries": [action_record(a) for a in actions]},
        counts,
        rows=tuple(_action_row(a.kind, a, verbose, a.kind is not Kind.PRESENT) for a in actions),
        columns=_ENTRY_COLUMNS,
        summary_line=(
            f"{counts[Kind.CREATE]} to create, {counts[Kind.PRESENT]} present, "
            f"{counts[Kind.CONFLICT]} conflicts, {counts[Kind.MISSING_SOURCE]} missing sources, "
            f"{counts[Kind.ERROR]} errors"
        ),
        problems=tuple(_problem(a, a.kind) for a in actions if a.kind in FAILED_KINDS),
    )


def applied(outcomes: Sequence[Outcome], *, verbose: bool = False) -> Report:
    counts = counted(Result, (o.result for o in outcomes))
    summary = ", ".join(
        f"{counts[result]} {label}"
        for result, label in _RESULT_LABELS.items()
        if counts[result] or result in _ALWAYS_COUNTED
    )
    return Report(
        "apply",
        {"entries": [action_record(o.action, o) for o in outcomes]},
        counts,
        rows=tuple(
            _action_row(o.result, o.action, verbose, o.result is not Result.PRESENT, o.message)
            for o in outcomes
        ),
        columns=_ENTRY_COLUMNS,
        summary_line=summary,
        problems=tuple(
            _problem(o.action, o.result, o.message) for o in outcomes if o.result in FAILED_RESULTS
        ),
    )


def described(resolved: Sequence[Resolved]) -> Report:
    from tagmgr.reconcile.targets import Unresolved

    records = [item_record(item) for item in resolved]
    failed = [item for item in resolved if isinstance(item, Unresolved)]
    counts = counted(("ok", "error"), ("error" if r["message"] else "ok" for r in records))
    rows = []
    for item in resolved:
        where = _manifest_place(item.entry)
        if isinstance(item, Unresolved):
            text = f"{item.entry.location()}: {item.entry.field_path}: {item.message}"
            rows.append(Row(text, ("error", code(item.entry.name), "", where, plain(item.message))))
        else:
            text = f"{item.destination}  (git describe: {item.describe})"
            cells = ("ok", code(str(item.destination)), code(item.describe or ""), where, "")
            rows.append(Row(text, cells))
    return Report(
        "describe",
        {"entries": records},
        counts,
        rows=tuple(rows),
        columns=("", "tag", "git describe", "manifest", "note"),
        headline=f"{many(counts['ok'], 'tag')} derived, {many(counts['error'], 'error')}",
        problems=tuple(
            Located(Place.at(i.entry.location(), i.entry.field_path), i.message) for i in failed
        ),
    )


def item_record(item: Resolved) -> dict[str, Any]:
    """Where an entry was written (the location record) and what it resolved to."""
    from tagmgr.reconcile.targets import Target, Unresolved

    entry = item.entry
    record: dict[str, Any] = {
        **Place.at(entry.location(), entry.field_path).record(),
        "entry": entry.field_path,
        "name": entry.name,
        "source": None,
        "target": None,
        "tag": None,
        "describe": None,
        "message": item.message if isinstance(item, Unresolved) else None,
    }
    if isinstance(item, Target):
        record.update(
            source=str(item.source),
            target=str(item.destination),
            tag=item.destination.tag,
            describe=item.describe,
        )
    return record


def action_record(action: Action, outcome: Outcome | None = None) -> dict[str, Any]:
    """One machine-readable object per manifest entry."""
    record = item_record(action.item)
    record.update(
        action=action.kind.value,
        source_digest=action.source.digest if action.source else None,
        target_digest=action.existing.digest if action.existing else None,
        media_type=action.source.media_type if action.source else None,
        message=action.message or None,
    )
    if outcome is not None:
        record.update(result=outcome.result.value, message=outcome.message or None)
    return record


def writing(outcome: Outcome) -> str:
    """What apply's progress says as each entry is done."""
    target = outcome.action.target
    what = target.destination if target else outcome.action.item.entry.name
    return f"{outcome.result.value} {what}"


def _action_row(
    word: str, action: Action, verbose: bool, change: bool, message: str | None = None
) -> Row:
    note = message if message is not None else action.message
    return Row(
        _action_text(word, action, verbose, note),
        _action_cells(word, action, verbose, note),
        change,
        word,
    )


def _action_text(word: str, action: Action, verbose: bool, note: str) -> str:
    text = f"{word:<15} {_subject(action)}"
    details = _details(action, verbose)
    if details:
        text += f"  {' '.join(details)}"
    if note:
        text += f"\n{'':<15} {note}"
    return text


def _action_cells(word: str, action: Action, verbose: bool, note: str) -> tuple[str, ...]:
    target = action.target
    if target is None:
        subject, source = code(action.item.entry.name), ""
    else:
        subject = code(str(target.destination))
        source = code(target.source.tag or target.source.digest or "")
    digest = code(_digest(action, verbose))
    return (word, subject, source, digest, _manifest_place(action.item.entry), plain(note))


def _subject(action: Action) -> str:
    target = action.target
    if target is None:
        return f"{action.item.entry.name} ({action.item.entry.location()})"
    subject = f"{target.destination} <- {target.source.tag or target.source.digest}"
    if target.describe:
        subject += f" (git describe: {target.describe})"
    return subject


def _details(action: Action, verbose: bool) -> list[str]:
    if action.source is None:
        return []
    if verbose:
        return [action.source.digest, action.source.media_type]
    return [_digest(action, verbose)]


def _digest(action: Action, verbose: bool) -> str:
    if action.source is None:
        return ""
    return action.source.digest if verbose else action.source.digest[:19]


def _manifest_place(entry: ImageEntry) -> str:
    location = entry.location()
    return code(f"{location.file}:{location.line}")


def _problem(action: Action, word: str, message: str | None = None) -> Located:
    """``word: subject: message``, the subject left out when the message starts with it."""
    entry = action.item.entry
    target = action.target
    subject = str(target.destination) if target else entry.name
    text = message or action.message
    said = text if text.startswith(subject) else f"{subject}: {text}"
    return Located(Place.at(entry.location(), entry.field_path), f"{word}: {said}")
