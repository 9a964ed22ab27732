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
    from tagmgr.errors import Location
    from tagmgr.manifest.model import Manifest
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
        where = _manifest_place(item.entry.location())
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
    from tagmgr.reconcile.targets import Target

    entry = item.entry
    record = Place.at(entry.location(), entry.field_path).record()
    record["entry"] = entry.field_path
    record["name"] = entry.name
    if isinstance(item, Target):
        record["source"] = str(item.source)
        record["target"] = str(item.destination)
        record["tag"] = item.destination.tag
        record["describe"] = item.describe
        record["message"] = None
    else:
        record["source"] = record["target"] = record["tag"] = record["describe"] = None
        record["message"] = item.message
    return record


def action_record(action: Action, outcome: Outcome | None = None) -> dict[str, Any]:
    """One machine-readable object per manifest entry."""
    record = item_record(action.item)
    source, existing = action.source, action.existing
    record["action"] = action.kind.value
    record["source_digest"] = source.digest if source else None
    record["target_digest"] = existing.digest if existing else None
    record["media_type"] = source.media_type if source else None
    record["message"] = action.message or None
    if outcome is not None:
        record["result"] = outcome.result.value
        record["message"] = outcome.message or None
    return record


def writing(outcome: Outcome) -> str:
    """What apply's progress says as each entry is done."""
    target = outcome.action.target
    what = target.destination if target else outcome.action.item.entry.name
    return f"{outcome.result.value} {what}"


def _action_row(
    word: str, action: Action, verbose: bool, change: bool, message: str | None = None
) -> Row:
    """The text and the Markdown cells of one entry, each part worked out once."""
    note = message if message is not None else action.message
    entry, target, found = action.item.entry, action.target, action.source
    location = entry.location()
    if target is None:
        subject, cell, source = f"{entry.name} ({location})", code(entry.name), ""
    else:
        destination = str(target.destination)
        from_tag = target.source.tag or target.source.digest or ""
        subject, cell, source = f"{destination} <- {from_tag}", code(destination), code(from_tag)
        if target.describe:
            subject += f" (git describe: {target.describe})"
    digest = "" if found is None else found.digest if verbose else found.digest[:19]
    text = f"{word:<15} {subject}"
    if found is not None:
        text += f"  {found.digest} {found.media_type}" if verbose else f"  {digest}"
    if note:
        text += f"\n{'':<15} {note}"
    place = _manifest_place(location)
    return Row(text, (word, cell, source, code(digest), place, plain(note)), change, word)


def _manifest_place(location: Location) -> str:
    """The entry's ``file:line`` cell."""
    return code(f"{location.file}:{location.line}")


def _problem(action: Action, word: str, message: str | None = None) -> Located:
    """``word: subject: message``, the subject left out when the message starts with it."""
    entry = action.item.entry
    target = action.target
    subject = str(target.destination) if target else entry.name
    text = message or action.message
    said = text if text.startswith(subject) else f"{subject}: {text}"
    return Located(Place.at(entry.location(), entry.field_path), f"{word}: {said}")
