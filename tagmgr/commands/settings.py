"""Defaults for the options every call repeats: the command line, else the environment
(``TAGMGR_*``), else a configuration file, else tagmgr's own default.

The files are YAML, read and checked as every reviewed file is (``documents.loader``, the schema
``schemas/config.schema.json``): the one ``$TAGMGR_CONFIG`` names (empty: none at all), else
``./.tagmgr.yaml`` over ``$XDG_CONFIG_HOME/tagmgr/config.yaml`` (``~/.config/...``), key by key.
A key is a long option without its dashes; a relative path in a file is relative to that file.
A list given at one level replaces the list of the levels below, whole.

A command that takes none of these options (``validate``, a pre-commit hook's) reads no file.
The yes that confirms a change is not among them (``confirm``).
"""

from __future__ import annotations

import argparse
import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from tagmgr.engines.names import DEFAULT_ENGINE, ENGINE_NAMES
from tagmgr.errors import ConfigError, TagmgrError

if TYPE_CHECKING:
    from tagmgr.documents.loader import DocumentKind

CONFIG_ENV = "TAGMGR_CONFIG"
PROJECT_FILE = Path(".tagmgr.yaml")
SCHEMA_PATH = Path(__file__).with_name("config.schema.json")
MAX_CONFIG_BYTES = 1024 * 1024
AUTH_ENV = ("REGISTRY_AUTH_FILE", "TAGMGR_AUTH_JSON")
"""The environment's credentials, read where credentials are looked for: when one is set, a
file's ``authfile`` is not (the command line's ``--authfile`` still comes first)."""


class Setting(NamedTuple):
    """One option's other sources. ``text`` reads the environment's string; ``value`` a file's
    (already of the schema's type) given the file's directory."""

    key: str
    env: str | None
    text: Callable[[str], Any]
    value: Callable[[Any, Path], Any]
    default: Any = None

    @property
    def dest(self) -> str:
        return self.key.replace("-", "_")


def _words(text: str) -> list[str]:
    return [word for word in re.split(r"[\s,]+", text) if word]


class _Within(ValueError):
    """A problem with one item of a file's value: ``key`` is where under the setting's key."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key


def _registry_map(pairs: Mapping[str, str]) -> Any:
    """``{where: "FROM=TO"}`` as one ``RegistryMap``; a bad pair is a problem at its ``where``."""
    from tagmgr.oci.registrymap import RegistryMap, parse_registry_pair

    mapping = RegistryMap()
    for where, pair in pairs.items():
        try:
            mapping = mapping.adding(*parse_registry_pair(pair))
        except TagmgrError as error:
            raise _Within(where, str(error)) from error
    return mapping


def _number(convert: Callable[[str], Any]) -> Callable[[Any, Path], Any]:
    return lambda value, _base: convert(str(value))


def _path(value: str, base: Path) -> Path:
    return base / Path(value).expanduser()


def _engine(text: str) -> str:
    if text not in ENGINE_NAMES:
        raise TagmgrError(f"{text!r} is no copy engine; give {', '.join(ENGINE_NAMES)}")
    return text


def _settings() -> tuple[Setting, ...]:
    from tagmgr.commands.options import positive_float, positive_int, seconds

    return (
        Setting(
            "map-registry",
            "TAGMGR_MAP_REGISTRY",
            lambda text: _registry_map({pair: pair for pair in _words(text)}),
            lambda value, _base: _registry_map({k: f"{k}={v}" for k, v in value.items()}),
        ),
        Setting(
            "certs-dir",
            "TAGMGR_CERTS_DIR",
            lambda text: [Path(p) for p in text.split(os.pathsep) if p],
            lambda value, base: [_path(item, base) for item in value],
            [],
        ),
        Setting(
            "insecure-registry",
            "TAGMGR_INSECURE_REGISTRY",
            _words,
            lambda value, _base: list(value),
            [],
        ),
        # The environment's are AUTH_ENV, read where credentials are looked for.
        Setting("authfile", None, Path, _path),
        Setting("request-timeout", "TAGMGR_REQUEST_TIMEOUT", seconds, _number(seconds)),
        Setting("registry-timeout", "TAGMGR_REGISTRY_TIMEOUT", seconds, _number(seconds)),
        Setting("max-rps", "TAGMGR_MAX_RPS", positive_float, _number(positive_float)),
        Setting("jobs", "TAGMGR_JOBS", positive_int, _number(positive_int), 4),
        Setting("git-cache", "TAGMGR_GIT_CACHE", Path, _path),
        Setting("engine", "TAGMGR_ENGINE", _engine, lambda value, _base: value, DEFAULT_ENGINE),
    )


def apply_settings(args: argparse.Namespace, environ: Mapping[str, str] = os.environ) -> None:
    """Give each configurable option of the command that was not on its command line the value
    of the first source that has one."""
    settings = [setting for setting in _settings() if hasattr(args, setting.dest)]
    if not settings:
        return  # no file read: validate starts as fast as before
    taken = [setting for setting in settings if _unset(getattr(args, setting.dest))]
    files: dict[str, Any] | None = None
    for setting in taken:
        value = _from_environment(setting, environ)
        if value is None:
            files = _from_files(environ) if files is None else files
            value = files.get(setting.key)
            if setting.key == "authfile" and any(environ.get(name) for name in AUTH_ENV):
                value = None  # the environment's credentials come before a file's
        setattr(args, setting.dest, setting.default if value is None else value)


def _unset(value: object) -> bool:
    return value is None or value == []


def _from_environment(setting: Setting, environ: Mapping[str, str]) -> Any:
    text = environ.get(setting.env or "", "").strip()
    if not text:
        return None
    try:
        return setting.text(text)
    except (TagmgrError, argparse.ArgumentTypeError, ValueError) as error:
        raise TagmgrError(f"{setting.env}={text!r}: {error}") from error


def config_files(environ: Mapping[str, str]) -> list[Path]:
    """The files to read, the one that counts most first."""
    named = environ.get(CONFIG_ENV)
    if named is not None:
        return [Path(named)] if named else []
    home = environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    found = [PROJECT_FILE, Path(home) / "tagmgr" / "config.yaml"]
    return [path for path in found if path.is_file()]


def _from_files(environ: Mapping[str, str]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for path in reversed(config_files(environ)):
        merged |= load_config(path)
    return merged


def load_config(path: Path) -> dict[str, Any]:
    """A configuration file's settings as option values, or its every problem, located."""
    from tagmgr.documents.loader import check_schema, read_document

    kind = _config_kind()
    doc = read_document(str(path), kind)
    if doc.data is None and not doc.problems:
        return {}  # empty, or only comments: it sets nothing
    check_schema(doc, kind)
    data = doc.data if isinstance(doc.data, dict) else {}
    values = {}
    for setting in _settings():
        key = (setting.key,)
        if setting.key in data and not any(seen[:1] == key for seen in doc.reported):
            try:
                values[setting.key] = setting.value(data[setting.key], path.parent)
            except _Within as error:
                doc.reject(doc.location((*key, error.key)), (*key, error.key), str(error))
            except (TagmgrError, argparse.ArgumentTypeError, ValueError) as error:
                doc.reject(doc.location(key), key, str(error))
    if doc.problems:
        raise ConfigError(doc.problems)
    return values


def _config_kind() -> DocumentKind:
    from tagmgr.documents.loader import DocumentKind
    from tagmgr.documents.yamldoc import YamlRules

    rules = YamlRules(
        noun="configuration file",
        empty="",
        needs="a configuration file needs 2",
        text_only=False,
    )
    return DocumentKind(rules, ConfigError, MAX_CONFIG_BYTES, SCHEMA_PATH)
