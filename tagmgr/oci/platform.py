"""The platform an image runs on, as an index entry or a config states it, and its one spelling.

``str()`` gives ``os/architecture[/variant]`` (``linux/arm64/v8``), with the OS version in
parentheses after the OS when one is stated (``windows(10.0.17763.5458)/amd64``), as containerd
spells a platform in full: two Windows images of one index differ only there. ``os.features`` is
compared but not spelled. ``parse_platform`` reads that spelling back, as ``--platform`` takes it.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from tagmgr.errors import TagmgrError

_PART = r"[A-Za-z0-9._-]+"
_PART_RE = re.compile(_PART)
_SPELLING_RE = re.compile(
    rf"(?P<os>{_PART})(?:\((?P<os_version>{_PART})\))?/(?P<architecture>{_PART})"
    rf"(?:/(?P<variant>{_PART}))?"
)


class _Platform(NamedTuple):
    os: str
    architecture: str
    variant: str = ""
    os_version: str = ""
    os_features: tuple[str, ...] = ()


class Platform(_Platform):
    """``os`` and ``architecture`` are required; an empty ``variant`` or ``os_version`` is none.

    A named tuple checked as it is made (a dataclass cost a plan's start-up more, see
    ``docs/design.md``); ``_replace`` skips the check, so nothing here uses it.
    """

    __slots__ = ()

    def __new__(
        cls,
        os: str,
        architecture: str,
        variant: str = "",
        os_version: str = "",
        os_features: tuple[str, ...] = (),
    ) -> Platform:
        for name, value in (
            ("os", os),
            ("architecture", architecture),
            ("variant", variant),
            ("os_version", os_version),
        ):
            if (value or name in ("os", "architecture")) and not _PART_RE.fullmatch(value):
                key = name.replace("_", ".")
                raise ValueError(f"{key} {value!r} is not a word of {_PART}")
        return super().__new__(cls, os, architecture, variant, os_version, os_features)

    def __str__(self) -> str:
        os_name = f"{self.os}({self.os_version})" if self.os_version else self.os
        return "/".join(part for part in (os_name, self.architecture, self.variant) if part)

    @property
    def is_unknown(self) -> bool:
        """``unknown/unknown``: what BuildKit states for its attestation manifests."""
        return (self.os, self.architecture) == ("unknown", "unknown")

    def matches(self, offered: Platform) -> bool:
        """Whether ``offered`` is this platform or a more precise one: a variant or OS version
        left out here is not asked for (``linux/arm64`` is met by ``linux/arm64/v8``)."""
        return (
            (self.os, self.architecture) == (offered.os, offered.architecture)
            and self.variant in ("", offered.variant)
            and self.os_version in ("", offered.os_version)
            and set(self.os_features) <= set(offered.os_features)
        )


UNKNOWN = Platform("unknown", "unknown")


def parse_platform(text: str) -> Platform:
    """``os[(os.version)]/architecture[/variant]``, as ``str(Platform)`` spells it."""
    found = _SPELLING_RE.fullmatch(text)
    if found is None:
        raise TagmgrError(
            f"{text!r}: a platform is os/architecture[/variant], e.g. linux/arm64 or "
            "linux/arm/v7 (with an OS version: windows(10.0.17763.5458)/amd64)"
        )
    return Platform(
        found["os"], found["architecture"], found["variant"] or "", found["os_version"] or ""
    )
