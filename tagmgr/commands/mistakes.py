"""What a usage error says beyond argparse's words: the nearest right spellings, and what tagmgr
takes for an option other tools spell differently (skopeo's, most of all).

Imported only when a command line is wrong: ``difflib`` costs ``validate`` start-up time.
"""

from __future__ import annotations

import argparse
import difflib
from collections.abc import Iterable, Mapping, Sequence

_CERTS = (
    "tagmgr reads certificates per registry: --certs-dir DIR holds DIR/HOST:PORT/*.crt (and "
    "*.cert/*.key), the layout of /etc/containers/certs.d; skopeo's {option} DIR is one "
    "registry's files: put them in DIR/HOST:PORT/"
)
_TLS = (
    "tagmgr verifies TLS for every registry unless told otherwise for one: give "
    "--insecure-registry HOST[:PORT] for each registry that serves plain HTTP or an unverified "
    "certificate ({option}=false for all of them at once would be a guess at which are meant)"
)
_CREDENTIALS = (
    "credentials never go on the command line, where other processes can read them: give "
    "--authfile PATH (auth.json, as skopeo login writes it) or set REGISTRY_AUTH_FILE"
)
_AUTHFILE = "tagmgr reads one credentials file for every registry: --authfile PATH"
_TIMEOUT = (
    "tagmgr bounds each request (--request-timeout SECONDS, retries included) and each "
    "registry (--registry-timeout SECONDS), not the whole run"
)

OTHER_TOOLS = {
    "--cert-dir": _CERTS,
    "--src-cert-dir": _CERTS,
    "--dest-cert-dir": _CERTS,
    "--tls-verify": _TLS,
    "--src-tls-verify": _TLS,
    "--dest-tls-verify": _TLS,
    "--creds": _CREDENTIALS,
    "--src-creds": _CREDENTIALS,
    "--dest-creds": _CREDENTIALS,
    "--username": _CREDENTIALS,
    "--password": _CREDENTIALS,
    "--src-authfile": _AUTHFILE,
    "--dest-authfile": _AUTHFILE,
    "--command-timeout": _TIMEOUT,
    "--retry-times": _TIMEOUT,
}
"""skopeo's spellings that tagmgr does not take, each with what to write instead. tagmgr takes
skopeo's ``--authfile`` as it is; the others mean something else here (a certificate directory
per registry, not for one; TLS per registry, not for the run), or would put a secret on argv."""


def invalid_choice(
    prog: str, action: argparse.Action, value: object, hint: str | None = None
) -> str:
    choices = [str(choice) for choice in action.choices or ()]
    near = _nearest(str(value), choices)
    if isinstance(action, argparse._SubParsersAction):
        return f"unknown command {value!r}: {near or f'{prog} --help lists them'}"
    said = f"invalid choice: {value!r} (choose from {', '.join(map(repr, choices))})"
    return "; ".join(filter(None, [said, near, hint]))


def unrecognized(extras: Sequence[str], options: Mapping[str, argparse.Action]) -> str:
    """The leftovers of a command line, each unknown option with a word on what to write."""
    unknown = [word for word in extras if word.startswith("-") and word != "-"]
    if not unknown:
        return f"unrecognized arguments: {' '.join(extras)}"
    return "; ".join(_unknown_option(word, options) for word in unknown)


def _unknown_option(word: str, options: Iterable[str]) -> str:
    name = word.split("=", 1)[0]
    other = OTHER_TOOLS.get(name)
    if other is not None:
        return f"{name} is skopeo's: {other.format(option=name)}"
    near = _nearest(name, [option for option in options if option.startswith("--")])
    return f"unknown option {name}{f': {near}' if near else ''}"


def _nearest(word: str, choices: Sequence[str]) -> str:
    near = difflib.get_close_matches(word, choices, n=3, cutoff=0.75)
    return f"did you mean {' or '.join(near)}?" if near else ""
