"""Reporters render results; the core never prints. Chosen by name: ``text`` or ``json``."""

from __future__ import annotations

import json
import sys
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from typing import IO, TYPE_CHECKING, Any, Protocol

from tagmgr.errors import DocumentError, TagmgrError
from tagmgr.reconcile.outcome import Outcome, Result

if TYPE_CHECKING:  # imported where they are rendered: validate, on every commit, renders none
    from tagmgr.manifest.model import Manifest
    from tagmgr.reconcile.plan import Action
    from tagmgr.reconcile.targets import Resolved

JSON_FORMAT_VERSION = 1
_ALWAYS_COUNTED = frozenset({Result.CREATED, Result.PRESENT, Result.FAILED})
_RESULT_LABELS = {
    Result.CREATED: "created",
    Result.PRESENT: "present",
    Result.FAILED: "failed",
    Result.CONFLICT: "conflicts",
    Result.NOT_STARTED: "not started",
}


class Reporter(Protocol):
    def validated(self, manifests: Sequence[Manifest]) -> None: ...
    def plan(self, actions: Sequence[Action]) -> None: ...
    def applied(self, outcomes: Sequence[Outcome]) -> None: ...
    def described(self, resolved: Sequence[Resolved]) -> None: ...


def item_record(item: Resolved) -> dict[str, Any]:
    """Where an entry was written and what it resolved to."""
    from tagmgr.reconcile.targets import Target, Unresolved

    entry = item.entry
    location = entry.location()
    record: dict[str, Any] = {
        "file": location.file,
        "line": location.line,
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


def dump_json(document: dict[str, Any], stream: IO[str]) -> None:
    json.dump(document, stream, indent=2)
    stream.write("\n")


class JsonReporter:
    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream

    def validated(self, manifests: Sequence[Manifest]) -> None:
        files = [{"file": m.path, "images": len(m.entries)} for m in manifests]
        self._dump({"format": JSON_FORMAT_VERSION, "command": "validate", "files": files})

    def plan(self, actions: Sequence[Action]) -> None:
        self._emit(
            "plan", [action_record(a) for a in actions], Counter(a.kind.value for a in actions)
        )

    def applied(self, outcomes: Sequence[Outcome]) -> None:
        records = [action_record(o.action, o) for o in outcomes]
        self._emit("apply", records, Counter(o.result.value for o in outcomes))

    def described(self, resolved: Sequence[Resolved]) -> None:
        records = [item_record(item) for item in resolved]
        self._emit("describe", records, Counter("error" if r["message"] else "ok" for r in records))

    def _emit(self, command: str, entries: list[dict[str, Any]], summary: Counter[str]) -> None:
        summary_by_name = dict(sorted(summary.items()))
        self._dump(
            {
                "format": JSON_FORMAT_VERSION,
                "command": command,
                "entries": entries,
                "summary": summary_by_name,
            }
        )

    def _dump(self, document: dict[str, Any]) -> None:
        dump_json(document, self._stream)


class TextReporter:
    def __init__(self, stream: IO[str], *, verbose: bool = False) -> None:
        self._stream = stream
        self._verbose = verbose

    def plan(self, actions: Sequence[Action]) -> None:
        from tagmgr.reconcile.plan import Kind

        for action in actions:
            self._line(action.kind.value, action)
        counts = Counter(a.kind for a in actions)
        self._write(
            f"\nplan: {counts[Kind.CREATE]} to create, {counts[Kind.PRESENT]} present, "
            f"{counts[Kind.CONFLICT]} conflicts, {counts[Kind.MISSING_SOURCE]} missing sources, "
            f"{counts[Kind.ERROR]} errors"
        )

    def applied(self, outcomes: Sequence[Outcome]) -> None:
        for outcome in outcomes:
            self._line(outcome.result.value, outcome.action, outcome.message)
        counts = Counter(o.result for o in outcomes)
        summary = ", ".join(
            f"{counts[result]} {label}"
            for result, label in _RESULT_LABELS.items()
            if counts[result] or result in _ALWAYS_COUNTED
        )
        self._write(f"\napply: {summary}")

    def validated(self, manifests: Sequence[Manifest]) -> None:
        for manifest in manifests:
            self._write(f"{manifest.path}: ok ({len(manifest.entries)} images)")

    def described(self, resolved: Sequence[Resolved]) -> None:
        from tagmgr.reconcile.targets import Unresolved

        for item in resolved:
            if isinstance(item, Unresolved):
                self._write(f"{item.entry.location()}: {item.entry.field_path}: {item.message}")
            else:
                self._write(f"{item.destination}  (git describe: {item.describe})")

    def _line(self, word: str, action: Action, message: str | None = None) -> None:
        target = action.target
        if target is None:
            subject = f"{action.item.entry.name} ({action.item.entry.location()})"
        else:
            subject = f"{target.destination} <- {target.source.tag or target.source.digest}"
            if target.describe:
                subject += f" (git describe: {target.describe})"
        details = []
        if action.source is not None:
            digest = action.source.digest if self._verbose else action.source.digest[:19]
            details.append(digest)
            if self._verbose:
                details.append(action.source.media_type)
        text = f"{word:<15} {subject}"
        if details:
            text += f"  {' '.join(details)}"
        note = message if message is not None else action.message
        if note:
            text += f"\n{'':<15} {note}"
        self._write(text)

    def _write(self, text: str) -> None:
        self._stream.write(text + "\n")


class Progress:
    """A one-line counter on a terminal's stderr; silent elsewhere."""

    def __init__(self, total: int, stream: IO[str] = sys.stderr) -> None:
        self._total = total
        self._done = 0
        self._lock = threading.Lock()
        self._stream = stream
        self._enabled = stream.isatty() and total > 0

    def __call__(self, outcome: Outcome) -> None:
        with self._lock:
            self._done += 1
            if self._enabled:
                self._show(outcome)

    def _show(self, outcome: Outcome) -> None:
        target = outcome.action.target
        what = target.destination if target else outcome.action.item.entry.name
        self._stream.write(f"\r\033[K[{self._done}/{self._total}] {outcome.result.value} {what}")
        self._stream.flush()

    def finish(self) -> None:
        if self._enabled:
            self._stream.write("\r\033[K")
            self._stream.flush()


REPORTERS: dict[str, Callable[[IO[str], bool], Reporter]] = {
    "text": lambda stream, verbose: TextReporter(stream, verbose=verbose),
    "json": lambda stream, _verbose: JsonReporter(stream),
}


def make_reporter(name: str, stream: IO[str], *, verbose: bool) -> Reporter:
    return REPORTERS[name](stream, verbose)


def report_error(error: TagmgrError, output: str, command: str) -> None:
    """Text on stderr; with ``--output json`` also a JSON document on stdout for the machine."""
    if output == "json":
        problems = error.problems if isinstance(error, DocumentError) else []
        document = {
            "format": JSON_FORMAT_VERSION,
            "command": command,
            "error": str(error),
            "problems": [
                {
                    "file": p.location.file,
                    "line": p.location.line,
                    "column": p.location.column,
                    "field": p.field,
                    "message": p.message,
                }
                for p in problems
            ],
        }
        dump_json(document, sys.stdout)
    prefix = "" if isinstance(error, DocumentError) else "tagmgr: error: "
    print(f"{prefix}{error}", file=sys.stderr)
