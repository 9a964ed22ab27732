"""The ignore file: path globs and config rules, compiled when loaded, matched in linear time."""

from __future__ import annotations

import os
import random
import threading
from pathlib import Path

import pytest

from tagmgr.changes.config import compare_configs
from tagmgr.changes.glob import Matcher, parse_word
from tagmgr.changes.ignore import compile_rules, load_ignore_file
from tagmgr.cli import main
from tagmgr.errors import IgnoreError, TagmgrError

EVIL = "*a*a*a*a*a*a*a*a*a*a*a*a*b"  # 696 s against 94 characters with the regex translation


@pytest.mark.parametrize(
    ("pattern", "matched", "unmatched"),
    [
        (
            "var/log/**",
            ["var/log", "var/log/dpkg.log", "var/log/apt/term.log"],
            ["var/logs", "x/var/log/a"],
        ),
        (
            "**/__pycache__/**",
            ["__pycache__", "a/__pycache__", "usr/lib/__pycache__/m.pyc"],
            ["a/__pycache__x/m"],
        ),
        ("**/*.pyc", ["m.pyc", "usr/lib/m.pyc"], ["usr/lib/m.pyc/x", "m.pyco"]),
        ("usr/*/app", ["usr/bin/app"], ["usr/app", "usr/local/bin/app"]),
        ("a/**/b", ["a/b", "a/x/b", "a/x/y/b"], ["a/xb", "b", "a/b/c"]),
        ("/etc/host?", ["etc/hosts"], ["etc/host", "etc/hostname"]),
        ("./etc/[!a-m]*", ["etc/passwd", "etc/shadow"], ["etc/group", "etc/"]),
        ("etc/[a-c]", ["etc/a", "etc/c"], ["etc/d", "etc/-"]),
        ("**", ["a", "a/b"], []),
        ("**/**/x", ["x", "a/x", "a/b/x"], ["xa"]),
        ("a]b", ["a]b"], ["ab"]),
        ("[]x]", ["]", "x"], ["[]x]"]),
        ("[!]]", ["a"], ["]"]),
        ("[a-]", ["a", "-"], ["b"]),
        ("path:a:b/*", ["a:b/c"], ["a:b"]),
        ("usr/*", ["usr/x"], ["usr/x/y", "usr"]),
        ("a*", ["a", "abc"], ["a/b"]),
    ],
)
def test_path_globs(pattern: str, matched: list[str], unmatched: list[str]) -> None:
    rules = compile_rules([pattern])
    assert [path for path in matched if rules.path_rule(path) is None] == []
    assert [path for path in unmatched if rules.path_rule(path) is not None] == []


def test_the_first_matching_rule_is_named() -> None:
    rules = compile_rules(["label:x", "**/*.pyc", "usr/**"])
    found = rules.path_rule("usr/lib/m.pyc")
    assert found is not None
    assert found.text == "**/*.pyc"
    assert rules.path_rule("usr/x") is not None
    assert rules.path_rule("x") is None


def ignore_file(tmp_path: Path, text: str) -> str:
    path = tmp_path / "diff-ignore"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_bad_patterns_are_located_at_their_character(tmp_path: Path) -> None:
    path = ignore_file(
        tmp_path,
        "# noise\n\nvar/log/**\n  usr/a**\nusr/a]b[\nx]y[z\n[z-a]\n[]\n"
        "lable:org.*\nconfig:Colour\nenv:\npath:/\n**/x[ab\n",
    )
    with pytest.raises(IgnoreError) as caught:
        load_ignore_file(path)
    unclosed = "a '[' without its ']' (a ']' right after '[' or '[!' is a member)"
    assert str(caught.value).splitlines() == [
        f"{path}:4:8: 'usr/a**': '**' must be a whole path component, as in 'a/**/b'",
        f"{path}:5:8: 'usr/a]b[': {unclosed}",
        f"{path}:6:4: 'x]y[z': {unclosed}",
        f"{path}:7:1: '[z-a]': the range z-a in a '[...]' set is reversed",
        f"{path}:8:1: '[]': {unclosed}",
        f"{path}:9:1: 'lable:org.*': unknown kind 'lable:'; one of path:, label:, env:, port:, "
        "volume:, config: (or path:lable:org.* for a path)",
        f"{path}:10:8: 'config:Colour': no config field 'Colour'; one of os, architecture, "
        "variant, os.version, os.features, User, Entrypoint, Cmd, WorkingDir, StopSignal, "
        "Shell, Healthcheck, OnBuild, ArgsEscaped, Env, Labels, ExposedPorts, Volumes",
        f"{path}:11:5: 'env:': names nothing",
        f"{path}:12:6: 'path:/': names no path",
        f"{path}:13:5: '**/x[ab': {unclosed}",
    ]


@pytest.mark.parametrize("pattern", ["usr/a]b[", "x]y[z", "[z-a]", "[]"])
def test_bad_patterns_are_user_errors_not_bugs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], pattern: str
) -> None:
    path = ignore_file(tmp_path, f"{pattern}\n")
    assert main(["diff", "--ignore", path, "a.example/x:1", "a.example/x:2"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"{path}:1:")
    assert "internal error" not in err


def test_an_ignore_file_from_a_pipe_is_read(tmp_path: Path) -> None:
    """``--ignore <(printf 'var/log/**\\n')`` gives a pipe, as /dev/fd/63."""
    read, write = os.pipe()

    def write_and_close() -> None:
        os.write(write, b"var/log/**\n")
        os.close(write)

    writer = threading.Thread(target=write_and_close)
    writer.start()
    try:
        rules = load_ignore_file(f"/dev/fd/{read}")
    finally:
        writer.join()
        os.close(read)
    assert rules.patterns == ("var/log/**",)


def test_an_unreadable_ignore_file_is_named_without_a_position(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nope"
    with pytest.raises(TagmgrError) as caught:
        load_ignore_file(str(missing))
    assert not isinstance(caught.value, IgnoreError)
    assert main(["diff", "--ignore", str(missing), "a.example/x:1", "a.example/x:2"]) == 1
    assert capsys.readouterr().err == (
        f"tagmgr: error: ignore file {missing}: cannot read the file: No such file or directory\n"
    )
    assert main(["diff", "--ignore", str(tmp_path), "a.example/x:1", "a.example/x:2"]) == 1
    assert capsys.readouterr().err.startswith(f"tagmgr: error: ignore file {tmp_path}: is a dir")


def test_matching_is_linear_in_the_text_whatever_the_pattern() -> None:
    """Steps counted, not time: a character costs at most twice the automaton's size, plus one.

    A backtracking matcher needs on the order of len(text)**12 steps for EVIL against a run of
    'a's: for 94 characters that is what ran for 696 s; for 100,000 it would never end.
    """
    for length in (94, 1_000, 100_000):
        matcher = Matcher([parse_word(EVIL, "/")])
        assert matcher.first_match("a" * length) is None
        assert matcher.steps <= length * (2 * matcher.size + 1)
    rules = compile_rules([EVIL, f"**/{EVIL}", f"label:{EVIL}"])
    assert rules.path_rule("a" * 94) is None
    assert rules.path_rule("/".join(["a" * 94] * 1000)) is None
    assert rules.config_rule("Labels", "a" * 100_000) is None
    assert rules.path_rule("a" * 93 + "b") is not None


def test_a_full_state_cache_still_matches_right() -> None:
    """Past the cache's cap the automaton starts again from its start state, still linear."""
    matcher = Matcher([parse_word("*x?????????????")])  # up to 2**14 state sets
    text = "".join(random.Random(7).choices("xy", k=50_000))  # noqa: S311
    assert (matcher.first_match(text) is not None) == (text[-14] == "x")
    assert (matcher.first_match(text + "y" * 13) is not None) == (text[-1] == "x")
    assert matcher.steps <= 2 * (len(text) + 13) * (2 * matcher.size + 1)
    assert matcher.flushes > 0


def test_config_rules_by_name_glob_and_field() -> None:
    rules = compile_rules(
        [
            "label:org.opencontainers.image.*",
            "env:BUILD_?D",
            "config:Healthcheck",
            "port:9*/tcp",
            "volume:/cache",
        ]
    )
    stamped = {"org.opencontainers.image.created": "2026-01-01", "team": "vro"}
    a = {
        "config": {
            "Labels": stamped,
            "Env": ["BUILD_ID=1", "PATH=/bin"],
            "Healthcheck": {"Test": ["a"]},
            "ExposedPorts": {"9090/tcp": {}},
            "Volumes": {"/cache": {}},
        }
    }
    b = {
        "config": {
            "Labels": {**stamped, "org.opencontainers.image.created": "2026-02-02"},
            "Env": ["BUILD_ID=2", "PATH=/bin"],
            "Healthcheck": {"Test": ["b"]},
        }
    }
    found = compare_configs(a, b, rules)
    assert [(str(reason), reason.ignored_by) for reason in found] == [
        ('config Healthcheck: {"Test": ["a"]} -> {"Test": ["b"]}', "config:Healthcheck"),
        ('config Env[BUILD_ID]: "1" -> "2"', "env:BUILD_?D"),
        (
            'config Labels[org.opencontainers.image.created]: "2026-01-01" -> "2026-02-02"',
            "label:org.opencontainers.image.*",
        ),
        ("config ExposedPorts[9090/tcp]: removed", "port:9*/tcp"),
        ("config Volumes[/cache]: removed", "volume:/cache"),
    ]
    assert [reason.ignored_by for reason in compare_configs(a, b)] == [""] * 5
