"""Platforms: one spelling out (``str``), the same spelling back in (``--platform``), matching."""

from __future__ import annotations

from typing import Any

import pytest

from tagmgr.errors import TagmgrError
from tagmgr.oci.platform import UNKNOWN, Platform, parse_platform

WIN = "10.0.17763.5458"


@pytest.mark.parametrize(
    ("platform", "spelled"),
    [
        (Platform("linux", "amd64"), "linux/amd64"),
        (Platform("linux", "arm64", "v8"), "linux/arm64/v8"),
        (Platform("linux", "arm", "v7"), "linux/arm/v7"),
        (Platform("linux", "ppc64le", "power9"), "linux/ppc64le/power9"),
        (Platform("linux", "riscv64", "rva20u64"), "linux/riscv64/rva20u64"),
        (Platform("windows", "amd64", os_version=WIN), f"windows({WIN})/amd64"),
        (Platform("windows", "amd64", "", WIN, ("win32k",)), f"windows({WIN})/amd64"),
        (Platform("windows", "arm64", "v8", WIN), f"windows({WIN})/arm64/v8"),
        (UNKNOWN, "unknown/unknown"),
    ],
)  # fmt: skip
def test_one_spelling_and_it_reads_back(platform: Platform, spelled: str) -> None:
    assert str(platform) == spelled
    parsed = parse_platform(spelled)
    assert str(parsed) == spelled
    assert parsed == Platform(
        platform.os, platform.architecture, platform.variant, platform.os_version
    )


@pytest.mark.parametrize(
    "text",
    ["linux", "amd64", "linux/", "/amd64", "linux/arm/v7/extra", "linux//v7", "linux/arm 64",
     "windows()/amd64", "windows(10 0)/amd64", "linux/amd64/", "*/amd64", ""],
)  # fmt: skip
def test_what_is_no_platform_is_refused_with_the_form(text: str) -> None:
    with pytest.raises(TagmgrError) as caught:
        parse_platform(text)
    assert str(caught.value) == (
        f"{text!r}: a platform is os/architecture[/variant], e.g. linux/arm64 or linux/arm/v7 "
        "(with an OS version: windows(10.0.17763.5458)/amd64)"
    )


WORD = "is not a word of [A-Za-z0-9._-]+"


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"os": "", "architecture": "amd64"}, f"os '' {WORD}"),
        ({"os": "linux", "architecture": "a/b"}, f"architecture 'a/b' {WORD}"),
        ({"os": "linux", "architecture": "arm", "variant": "v 7"}, f"variant 'v 7' {WORD}"),
        ({"os": "w", "architecture": "amd64", "os_version": "(1)"}, f"os.version '(1)' {WORD}"),
    ],
)
def test_a_platform_value_keeps_its_spelling_unambiguous(
    fields: dict[str, Any], problem: str
) -> None:
    with pytest.raises(ValueError, match="is not a word") as caught:
        Platform(**fields)
    assert str(caught.value) == problem


@pytest.mark.parametrize(
    ("wanted", "offered", "matches"),
    [
        ("linux/arm64", "linux/arm64", True),
        ("linux/arm64", "linux/arm64/v8", True),
        ("linux/arm64/v8", "linux/arm64", False),
        ("linux/arm/v7", "linux/arm/v6", False),
        ("linux/amd64", "windows/amd64", False),
        ("windows/amd64", f"windows({WIN})/amd64", True),
        (f"windows({WIN})/amd64", "windows(10.0.20348.2227)/amd64", False),
        (f"windows({WIN})/amd64", f"windows({WIN})/amd64", True),
    ],
)
def test_a_platform_left_less_precise_matches_a_more_precise_one(
    wanted: str, offered: str, matches: bool
) -> None:
    assert parse_platform(wanted).matches(parse_platform(offered)) is matches


def test_os_features_asked_for_must_be_offered() -> None:
    plain, win32k = (
        Platform("windows", "amd64"),
        Platform("windows", "amd64", os_features=("win32k",)),
    )
    assert plain.matches(win32k)
    assert not win32k.matches(plain)
