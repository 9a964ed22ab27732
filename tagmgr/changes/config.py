"""Image configs compared field by field; ``created``, ``history`` and builder details ignored.

What a container runs with counts: the process (``Entrypoint``, ``Cmd``, ``Env``, ``User``,
``WorkingDir``, ...), its metadata (``Labels``) and the platform. ``Env`` and ``Labels`` are
compared by name, so a new order is not a change; ``ExposedPorts`` and ``Volumes`` as sets.
A difference a team's ignore rules name (``ConfigNoise``) is still a reason, marked as ignored.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from typing import Protocol

from tagmgr.changes.verdict import Reason

PLATFORM_FIELDS = ("os", "architecture", "variant", "os.version", "os.features")
RUNTIME_FIELDS = (
    "User",
    "Entrypoint",
    "Cmd",
    "WorkingDir",
    "StopSignal",
    "Shell",
    "Healthcheck",
    "OnBuild",
    "ArgsEscaped",
)
BY_NAME_FIELDS = ("Env", "Labels")
SET_FIELDS = ("ExposedPorts", "Volumes")
NAMED_FIELDS = (*BY_NAME_FIELDS, *SET_FIELDS)
CONFIG_FIELDS = (*PLATFORM_FIELDS, *RUNTIME_FIELDS, *NAMED_FIELDS)


class ConfigNoise(Protocol):
    def config_rule(self, field: str, name: str | None = None) -> str | None:
        """The rule that makes a difference in ``field`` (or its entry ``name``) no change."""


class _NoNoise:
    def config_rule(self, field: str, name: str | None = None) -> str | None:
        return None


NO_NOISE: ConfigNoise = _NoNoise()


def compare_configs(
    a: Mapping[str, object], b: Mapping[str, object], noise: ConfigNoise = NO_NOISE
) -> list[Reason]:
    reasons = [
        Reason("config", name, f"{_shown(a.get(name))} -> {_shown(b.get(name))}")
        for name in PLATFORM_FIELDS
        if _unset_if_empty(a.get(name)) != _unset_if_empty(b.get(name))
    ]
    run_a, run_b = _runtime(a), _runtime(b)
    for name in RUNTIME_FIELDS:
        before, after = _unset_if_empty(run_a.get(name)), _unset_if_empty(run_b.get(name))
        if before != after:
            reasons.append(Reason("config", name, f"{_shown(before)} -> {_shown(after)}"))
    marked = [
        replace(reason, ignored_by=noise.config_rule(reason.subject) or "") for reason in reasons
    ]
    for name in BY_NAME_FIELDS:
        marked += _by_name(
            name, _named(name, run_a.get(name)), _named(name, run_b.get(name)), noise
        )
    for name in SET_FIELDS:
        marked += _by_name(name, _keys(run_a.get(name)), _keys(run_b.get(name)), noise)
    return marked


def _runtime(config: Mapping[str, object]) -> Mapping[str, object]:
    runtime = config.get("config")
    return runtime if isinstance(runtime, dict) else {}


def _unset_if_empty(value: object) -> object:
    """Absent, null, ``[]``, ``{}`` and ``""`` all mean "not set"."""
    return None if value in (None, [], {}, "") else value


def _named(name: str, value: object) -> dict[str, object]:
    if name == "Env" and isinstance(value, list):
        pairs = (str(item).partition("=") for item in value)
        return {key: text for key, _, text in pairs}  # the last of a repeated name wins
    return dict(value) if isinstance(value, dict) else {}


def _keys(value: object) -> dict[str, object]:
    return dict.fromkeys(value) if isinstance(value, dict) else {}


def _by_name(
    field: str, a: Mapping[str, object], b: Mapping[str, object], noise: ConfigNoise
) -> list[Reason]:
    reasons = []
    for key in sorted(a.keys() | b.keys()):
        if key not in a:
            detail = _added(b[key])
        elif key not in b:
            detail = "removed"
        elif a[key] != b[key]:
            detail = f"{_shown(a[key])} -> {_shown(b[key])}"
        else:
            continue
        ignored_by = noise.config_rule(field, key) or ""
        reasons.append(Reason("config", f"{field}[{key}]", detail, ignored_by))
    return reasons


def _added(value: object) -> str:
    return "added" if value is None else f"added: {_shown(value)}"


def _shown(value: object) -> str:
    return "(unset)" if value is None else json.dumps(value, ensure_ascii=False)
