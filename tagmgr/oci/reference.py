"""Image references, parsed once into (registry, repository, tag, digest).

The grammar is the distribution spec's and that of ``github.com/distribution/reference``, which
Docker, containerd and the registries share: a repository is lowercase path components joined by
``/``; a tag is ``[A-Za-z0-9_][A-Za-z0-9._-]{0,127}``. tagmgr always wants the registry spelled
out, so a reviewed manifest never depends on a client's default registry. Where tagmgr reads a
reference differently from Docker, docs/reference/image-references.md says how, and
tests/unit/oci/test_reference_conformance.py pins it.
"""

from __future__ import annotations

import ipaddress
import re
from functools import cache
from typing import NamedTuple

from tagmgr.errors import InvalidReferenceError

DOCKER_HUB = "docker.io"
_DOCKER_HUB_ALIASES = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io"})


def _ipv6_pattern() -> str:
    """RFC 4291's hexadecimal text forms: eight groups, or fewer around one ``::``.

    What ``ipaddress.IPv6Address`` accepts, less zone indexes (``%eth0``) and a dotted IPv4 tail
    (``::ffff:192.0.2.1``): the reference grammar leaves both out on purpose, and Docker refuses
    them.
    """
    group = r"[0-9a-fA-F]{1,4}"
    forms = [rf"(?:{group}:){{7}}{group}"]
    for left in range(8):  # groups before "::"; "::" stands for at least one
        before = rf"(?:{group}:){{{left - 1}}}{group}" if left else ""
        after = rf"(?:{group}(?::{group}){{0,{6 - left}}})?" if left < 7 else ""
        forms.append(f"{before}::{after}")
    return f"(?:{'|'.join(forms)})"


_PATH_COMPONENT = r"[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = rf"{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*"
IPV6_PATTERN = _ipv6_pattern()
PORT_PATTERN = (
    r"(?:6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3})"
)
_HOST = rf"(?:{_DOMAIN}|\[{IPV6_PATTERN}\])"
REGISTRY_PATTERN = rf"{_HOST}(?::{PORT_PATTERN})?"
REPOSITORY_PATTERN = rf"{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*"
TAG_PATTERN = r"[A-Za-z0-9_][A-Za-z0-9._-]{0,127}"
DIGEST_PATTERN = r"sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128}"

_TAG_RE = re.compile(TAG_PATTERN)
_IMAGE_ID_RE = re.compile(r"[a-f0-9]{64}")
_DIGEST_RE = re.compile(DIGEST_PATTERN)
SUPPORTED_DIGEST_ALGORITHMS = ("sha256", "sha512")
MAX_NAME_LENGTH = 255


class ImageReference(NamedTuple):
    """A parsed image reference; build new ones with the ``with_*`` methods, never from strings."""

    registry: str
    repository: str
    tag: str | None = None
    digest: str | None = None

    @classmethod
    def parse(cls, text: str) -> ImageReference:
        """Parse ``registry/repository[:tag][@digest]``; raise ``InvalidReferenceError``."""
        rest, _, digest = text.partition("@")
        name, tag = rest, None
        slash, colon = rest.rfind("/"), rest.rfind(":")
        if colon > slash:
            name, tag = rest[:colon], rest[colon + 1 :]
        reason = explain_invalid_name(name)
        if reason:
            raise InvalidReferenceError(f"{text!r}: {reason}")
        if tag is not None and not _TAG_RE.fullmatch(tag):
            raise InvalidReferenceError(f"{text!r}: {explain_invalid_tag(tag)}")
        if digest and not _DIGEST_RE.fullmatch(digest):
            raise InvalidReferenceError(f"{text!r}: {explain_invalid_digest(digest)}")
        registry, _, repository = name.partition("/")
        return cls.from_parts(registry, repository, tag=tag, digest=digest or None)

    @classmethod
    def parse_familiar(cls, text: str) -> ImageReference:
        """Parse a name as Docker reads it: ``nginx:1.25`` is ``docker.io/library/nginx:1.25``.

        Charts, compose files and Dockerfiles leave Docker Hub implied; manifests never do.
        """
        if _IMAGE_ID_RE.fullmatch(text):
            raise InvalidReferenceError(
                f"{text!r}: 64 hexadecimal digits are an image ID, not a name (Docker refuses "
                "them as a repository name too)"
            )
        first, slash, _ = text.partition("/")
        if not slash or not looks_like_registry(first):
            text = f"{DOCKER_HUB}/{text}"
        return cls.parse(text)

    @classmethod
    def from_parts(
        cls, registry: str, repository: str, *, tag: str | None = None, digest: str | None = None
    ) -> ImageReference:
        """Normalise spellings of one registry: host names are case-insensitive, and
        ``docker.io/x`` is ``docker.io/library/x``."""
        return cls(*normal_parts(registry, repository), tag, digest)

    @property
    def name(self) -> str:
        return f"{self.registry}/{self.repository}"

    @property
    def repository_only(self) -> ImageReference:
        """The repository this reference is in, without its tag or digest."""
        return self._replace(tag=None, digest=None)

    def with_tag(self, tag: str) -> ImageReference:
        return self._replace(tag=tag, digest=None)

    def with_digest(self, digest: str) -> ImageReference:
        return self._replace(tag=None, digest=digest)

    def with_registry(self, registry: str) -> ImageReference:
        return ImageReference.from_parts(
            registry, self.repository, tag=self.tag, digest=self.digest
        )

    def __str__(self) -> str:
        text = self.name
        if self.tag:
            text += f":{self.tag}"
        if self.digest:
            text += f"@{self.digest}"
        return text


def normal_parts(registry: str, repository: str) -> tuple[str, str]:
    """``from_parts``'s spelling of a registry and repository, without making a reference."""
    registry = registry.lower()
    if registry in _DOCKER_HUB_ALIASES:
        registry = DOCKER_HUB
        if "/" not in repository:
            repository = f"library/{repository}"
    return registry, repository


def explain_invalid_name(name: str) -> str | None:
    """Say why ``registry/repository`` is not a valid name, or return None when it is."""
    registry, slash, repository = name.partition("/")
    if (  # the valid case first: a plan parses a thousand names before its first request
        len(name) <= MAX_NAME_LENGTH
        and is_valid_registry(registry)
        and _repository_regex().fullmatch(repository)
        and looks_like_registry(registry)
        and looks_like_registry(registry.lower())
    ):
        return None
    reasons = [
        (not name, "name is empty"),
        (name.startswith("-"), "name must not begin with '-'"),
        (
            not slash or not looks_like_registry(registry),
            "name must begin with a registry host such as docker.io/ or 127.0.0.1:5000/",
        ),
        (True, explain_invalid_registry(registry)),
        (
            len(name) > MAX_NAME_LENGTH,
            f"name is {len(name)} characters long; at most {MAX_NAME_LENGTH} are allowed",
        ),
    ]
    reasons += [(True, r) for r in map(_explain_path_component, repository.split("/")) if r]
    if not looks_like_registry(registry.lower()):
        reasons.append((True, _explain_capital_host(registry, repository)))
    return next((reason for failed, reason in reasons if failed and reason), None)


@cache
def _registry_regex() -> re.Pattern[str]:
    """Compiled when a reference is first parsed, not on import: ``validate`` checks names with
    the schema and need not pay for compiling the IPv6 forms."""
    return re.compile(REGISTRY_PATTERN)


@cache
def _repository_regex() -> re.Pattern[str]:
    return re.compile(REPOSITORY_PATTERN)


def split_registry(registry: str) -> tuple[str, int | None]:
    """``(host, port)`` of a valid registry: an IPv6 host without brackets, no port as None."""
    host, port = _host_and_port(registry)
    return host.removeprefix("[").removesuffix("]"), int(port) if port else None


def _host_and_port(registry: str) -> tuple[str, str]:
    if ":" not in registry.rpartition("]")[2]:
        return registry, ""
    host, _, port = registry.rpartition(":")
    return host, port


def is_valid_registry(registry: str) -> bool:
    """Whether ``registry`` is a host[:port] by the grammar."""
    return _registry_regex().fullmatch(registry) is not None


def explain_invalid_registry(registry: str) -> str | None:
    """Say why ``registry`` is not a host[:port] by the grammar, or return None when it is."""
    return None if is_valid_registry(registry) else _explain_invalid_registry(registry)


def _explain_capital_host(registry: str, repository: str) -> str:
    """Why ``Foo/bar`` is refused: Docker reads ``Foo`` as a host, which lowercased is not one."""
    host = registry.lower()
    return (
        f"{registry!r} is taken as a registry host, as Docker takes a first component with "
        f"capital letters; tagmgr wants such a host with a '.' or its port ({host}:443/"
        f"{repository}), since {host}/{repository} is a Docker Hub name "
        f"({DOCKER_HUB}/{host}/{repository})"
    )


def _explain_invalid_registry(registry: str) -> str:
    host, port = _host_and_port(registry)
    if host.startswith("[") and not re.fullmatch(rf"\[{IPV6_PATTERN}\]", host):
        return f"registry {registry!r}: {_explain_invalid_ipv6(host[1:].removesuffix(']'))}"
    if port and not re.fullmatch(PORT_PATTERN, port):
        return f"registry {registry!r}: port {port!r} is not a number from 1 to 65535"
    return f"registry {registry!r} is not a valid host[:port]"


def _explain_invalid_ipv6(address: str) -> str:
    try:
        parsed = ipaddress.IPv6Address(address)
    except ValueError:
        return f"[{address}] is not an IPv6 address"
    if "%" in address:
        return f"[{address}]: a zone index (%...) names no host another machine can reach"
    return (
        f"[{address}]: an IPv6 address with a dotted IPv4 tail is refused, as Docker refuses it; "
        f"write it in hexadecimal: [{parsed.compressed}]"
    )


def _explain_path_component(component: str) -> str | None:
    if not component:
        return "path components must not be empty (no leading, trailing or double '/')"
    if component in {".", ".."} or ".." in component:
        return f"path component {component!r} must not contain '..'"
    if component != component.lower():
        return f"path component {component!r} must be lowercase"
    if not re.fullmatch(_PATH_COMPONENT, component):
        return (
            f"path component {component!r} must be lowercase letters and digits, "
            "separated by single '.', '_', '__' or runs of '-'"
        )
    return None


def explain_invalid_tag(tag: str) -> str:
    """Say why ``tag`` is not a valid tag (call only for invalid tags)."""
    if not tag:
        return "tag is empty"
    if len(tag) > 128:
        return f"tag is {len(tag)} characters long; at most 128 are allowed"
    if tag.startswith(("-", ".")):
        return f"tag {tag!r} must begin with a letter, digit or '_'"
    return f"tag {tag!r} may contain only letters, digits, '_', '.' and '-'"


def explain_invalid_digest(digest: str) -> str:
    """Say why ``digest`` is not one tagmgr accepts (call only for invalid digests)."""
    algorithm, colon, _ = digest.partition(":")
    if colon and algorithm and algorithm not in SUPPORTED_DIGEST_ALGORITHMS:
        return (
            f"digest algorithm {algorithm!r} is not supported; "
            "tagmgr accepts sha256:<64 hex> and sha512:<128 hex> digests"
        )
    return "digest must be sha256:<64 hex> or sha512:<128 hex>"


def is_valid_tag(tag: str) -> bool:
    return bool(_TAG_RE.fullmatch(tag))


def looks_like_registry(component: str) -> bool:
    """Docker's rule: the first component is a registry if it has '.' or ':', is localhost, or
    has capital letters (a Docker Hub namespace never has)."""
    return (
        "." in component
        or ":" in component
        or component == "localhost"
        or component != component.lower()
    )


def is_loopback(registry: str) -> bool:
    """True for localhost, 127.0.0.0/8 and [::1], with or without a port."""
    host, _ = split_registry(registry)
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
