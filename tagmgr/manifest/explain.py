"""What to tell a person about a value the schema refused: the reason, not the regex.

Each explainer gets a string the schema already rejected and names the first thing wrong with it.
Echoed values are clipped (``documents.explain.clip``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from tagmgr.documents.explain import clip, type_name
from tagmgr.documents.explain import wrong_type as documents_wrong_type
from tagmgr.manifest.model import DESCRIBE_PLACEHOLDER
from tagmgr.oci.reference import (
    MAX_NAME_LENGTH,
    explain_invalid_digest,
    explain_invalid_name,
    explain_invalid_tag,
)

MAX_TAG_LENGTH = 128
MAX_PREFIX_LENGTH = 100
MAX_COMMIT_LENGTH = 40
MIN_COMMIT_LENGTH = 4
REPO_SCHEMES = ("https", "http", "ssh", "git", "file")

_TAG_FIRST = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")
_TAG_CHARS = _TAG_FIRST | frozenset(".-")
_PLACEHOLDER = re.compile(r"\{[^{}]*\}")
_REMOTE_HELPER = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*::")
_URL_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://")
# A password in a URL's userinfo: scheme://user:secret@host (the authority ends at '/').
_URL_PASSWORD = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^/@]*:[^/]*@")


def invalid_value(field: str, value: str) -> str:
    """Why ``value`` is not a valid ``field`` (the last key of its path)."""
    if value.startswith("-"):
        return f"{field} must not begin with '-' (it could be taken for a command-line option)"
    explainer = _EXPLAINERS.get(field)
    reason = explainer(value) if explainer else None
    return reason or f"{field} {clip(value)!r} is not valid"


def wrong_type(expected: object, value: object, *, top_level: bool) -> str:
    if top_level:
        return f"the top level must be a mapping with an 'images:' list, not {type_name(value)}"
    return documents_wrong_type(expected, value)


def missing_key(key: str, entry: Mapping[str, object]) -> str:
    if key == "tag" and "upstream" in entry:
        return (
            "missing required key 'tag': without it the tag is tag_prefix +"
            f" '{DESCRIBE_PLACEHOLDER}', and this manifest has no 'tag_prefix'"
        )
    if key == "tag":
        return (
            "missing required key 'tag' (it may be left out only when 'upstream' is given"
            " and the manifest has a 'tag_prefix')"
        )
    if key == "upstream":
        return (
            "missing required key 'upstream': the tag template needs an upstream commit to describe"
        )
    if key == "src_build_tag":
        return (
            "missing required key 'src_build_tag' (or give the source by digest alone"
            " with 'src_digest')"
        )
    return f"missing required key {key!r}"


def _name(name: str) -> str | None:
    if len(name) > MAX_NAME_LENGTH:
        return f"name is {len(name)} characters long; at most {MAX_NAME_LENGTH} are allowed"
    return explain_invalid_name(name)


def _tag(tag: str) -> str | None:
    if "{" in tag or "}" in tag:
        return _template(tag)
    return explain_invalid_tag(tag)


def _template(tag: str) -> str | None:
    count = tag.count(DESCRIBE_PLACEHOLDER)
    literal = tag.replace(DESCRIBE_PLACEHOLDER, "")
    placeholder = _PLACEHOLDER.search(literal)
    if count > 1:
        return f"tag template uses {DESCRIBE_PLACEHOLDER} {count} times; use it exactly once"
    if placeholder:
        return (
            f"tag template has the unknown placeholder {clip(placeholder.group())!r};"
            f" the only one is {DESCRIBE_PLACEHOLDER}"
        )
    if "{" in literal or "}" in literal:
        return (
            f"tag template has an unmatched brace; the only placeholder is {DESCRIBE_PLACEHOLDER}"
        )
    if len(literal) > MAX_TAG_LENGTH:
        return (
            f"tag template has {len(literal)} characters besides {DESCRIBE_PLACEHOLDER};"
            f" a tag is at most {MAX_TAG_LENGTH}"
        )
    return _tag_text("tag template", tag.replace(DESCRIBE_PLACEHOLDER, "_"))


def _tag_prefix(prefix: str) -> str | None:
    if len(prefix) > MAX_PREFIX_LENGTH:
        return (
            f"tag_prefix is {len(prefix)} characters long; at most {MAX_PREFIX_LENGTH} are allowed,"
            " leaving room for the version"
        )
    return _tag_text("tag_prefix", prefix)


def _tag_text(noun: str, text: str) -> str | None:
    if not text:
        return f"{noun} must not be empty"
    if text[0] not in _TAG_FIRST:
        return f"{noun} must begin with a letter, digit or '_'"
    bad = [char for char in text if char not in _TAG_CHARS]
    if bad:
        return (
            f"{noun} must not contain {bad[0]!r}: only letters, digits, '_', '.' and '-'"
            " are allowed"
        )
    return None


def _token(noun: str) -> Callable[[str], str]:
    def explain(value: str) -> str:
        if not value:
            return f"{noun} must not be empty"
        return f"{noun} must not contain whitespace"

    return explain


def _repo(repo: str) -> str:
    helper = _REMOTE_HELPER.match(repo)
    scheme = _URL_SCHEME.match(repo)
    if not repo:
        return "repo must not be empty"
    if helper:
        return (
            f"repo uses the remote-helper form {clip(helper.group())!r}, which can run commands;"
            " use an https, ssh, git or file URL, user@host:path or a local path"
        )
    if any(char.isspace() for char in repo):
        return "repo must not contain whitespace"
    if scheme:
        return _repo_url(scheme.group(1), repo)
    return (
        f"repo {clip(repo)!r} is neither a URL nor user@host:path, and a local path"
        " must not contain ':'"
    )


def _repo_url(scheme: str, url: str) -> str:
    if _URL_PASSWORD.match(url):
        return (
            "repo URL has a password: credentials must not be written in the manifest;"
            " use a git credential helper or an SSH key"
        )
    if scheme not in REPO_SCHEMES:
        supported = ", ".join(REPO_SCHEMES[:-1]) + f" or {REPO_SCHEMES[-1]}"
        return f"repo URL scheme {clip(scheme)!r} is not supported; use {supported}"
    if scheme in ("http", "https") and ("@" in url.split("/")[2] or "?" in url or "#" in url):
        return (
            f"repo {scheme} URL has a user part or a query, where tokens go, and git would show"
            " it on its command line: credentials must not be written in the manifest;"
            " use a git credential helper"
        )
    if "[" in url or "]" in url:
        return "repo URL has a bracket that does not enclose an IPv6 host, as in https://[::1]/r"
    return "repo URL needs a host, and neither host nor user may begin with '-'"


def _commit(commit: str) -> str:
    if re.fullmatch(r"[0-9a-fA-F]*", commit) is None:
        return f"commit {clip(commit)!r} must be hexadecimal digits (0-9, a-f)"
    if commit != commit.lower():
        return f"commit {clip(commit)!r} must be lowercase, as git prints it"
    if len(commit) < MIN_COMMIT_LENGTH:
        return f"commit {commit!r} is too short; give at least {MIN_COMMIT_LENGTH} hex digits"
    return f"commit has {len(commit)} hex digits; a full commit id has {MAX_COMMIT_LENGTH}"


_EXPLAINERS: dict[str, Callable[[str], str | None]] = {
    "name": _name,
    "tag": _tag,
    "src_build_tag": explain_invalid_tag,
    "src_digest": explain_invalid_digest,
    "tag_prefix": _tag_prefix,
    "src_ref": _token("src_ref"),
    "match": _token("match"),
    "repo": _repo,
    "commit": _commit,
    "version": explain_invalid_tag,
    "pin": lambda pin: f"pin {clip(pin)!r} is neither 'auto' nor 'manual'",
}
