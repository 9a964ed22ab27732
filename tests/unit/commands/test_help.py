"""Help and the conventions of the command line: help without a command, the nearest spelling
for a mistyped one, an example under every command's help, options only where they act."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from tagmgr.cli import build_parser, main
from tests.unit.docs.test_options_documented import sub_commands


def usage_error(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    """The last line of a usage error (exit 64, nothing on stdout)."""
    with pytest.raises(SystemExit) as raised:
        main(list(argv))
    captured = capsys.readouterr()
    assert (raised.value.code, captured.out) == (64, "")
    return captured.err.splitlines()[-1]


def test_tagmgr_alone_prints_help_and_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    assert captured.out.startswith("usage: tagmgr [-h] [--version] COMMAND ...\n")
    assert "    validate  check manifests against the schema and the rules\n" in captured.out
    assert "  tagmgr COMMAND --help     # its options, with examples\n" in captured.out


def test_a_group_alone_prints_its_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["versions"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: tagmgr versions [-h] COMMAND ...\n")
    assert "    export    print each image's version for a shell to source\n" in out


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["valdate", "m.yaml"], "tagmgr: error: unknown command 'valdate': did you mean validate?"),
        (["--verbose", "pln"], "tagmgr: error: unknown command 'pln': did you mean plan?"),
        (["frobnicate"], "tagmgr: error: unknown command 'frobnicate': tagmgr --help lists them"),
        (
            ["versions", "updte", "f.yaml"],
            "tagmgr versions: error: unknown command 'updte': did you mean update?",
        ),
        (
            ["plan", "--output", "jsn", "m.yaml"],
            "tagmgr plan: error: argument -o/--output: invalid choice: 'jsn' (choose from 'text', "
            "'json', 'markdown'); did you mean json?",
        ),
        (
            ["plan", "--trust-exsting", "m.yaml"],
            "tagmgr plan: error: unknown option --trust-exsting: did you mean --trust-existing?",
        ),
        (
            ["versions", "update", "f.yaml", "--build", "b", "--ignroe=x"],
            "tagmgr versions update: error: unknown option --ignroe: did you mean --ignore?",
        ),
        (["schema", "--zzz"], "tagmgr schema: error: unknown option --zzz"),
        (  # said before the word after it is read as a NAME (and refused as one)
            ["status", "--engine", "api", "docker.io/team/app"],
            "tagmgr status: error: unknown option --engine",
        ),
        (
            ["expire", "--policy", "p.yaml", "--keep-newer-than", "-1"],
            "tagmgr expire: error: argument --keep-newer-than: '-1': expected a number and d, h,"
            " m or s, such as 7d or 12h",
        ),
        (
            ["diff", "docker.io/a/b:1", "docker.io/a/b:2", "c"],
            "tagmgr diff: error: unrecognized arguments: c",
        ),
    ],
    ids=[
        "command",
        "after-option",
        "no-near",
        "nested",
        "choice",
        "option",
        "option=",
        "far",
        "before-its-value",
        "negative-value",
        "extra",
    ],
)
def test_a_misspelling_gets_the_nearest_spelling(
    capsys: pytest.CaptureFixture[str], argv: list[str], said: str
) -> None:
    assert usage_error(capsys, *argv) == said


@pytest.mark.parametrize(
    ("option", "advice"),
    [
        ("--tls-verify=false", "give --insecure-registry HOST[:PORT] for each registry"),
        ("--cert-dir", "put them in DIR/HOST:PORT/"),
        ("--dest-cert-dir", "put them in DIR/HOST:PORT/"),
        ("--creds", "credentials never go on the command line"),
        ("--src-authfile", "one credentials file for every registry: --authfile PATH"),
    ],
)
def test_skopeo_spellings_are_answered_with_tagmgr_s(
    capsys: pytest.CaptureFixture[str], option: str, advice: str
) -> None:
    last = usage_error(capsys, "resolve", option, "x", "docker.io/library/alpine:3")
    name = option.split("=", maxsplit=1)[0]
    assert last.startswith(f"tagmgr resolve: error: {name} is skopeo's: ")
    assert advice in last


def test_skopeo_s_authfile_is_tagmgr_s() -> None:
    argv = ["resolve", "--authfile", "auth.json", "docker.io/library/alpine:3"]
    assert build_parser(argv).parse_args(argv).authfile == Path("auth.json")


def test_o_is_output_everywhere_and_lock_says_where_its_path_went(
    capsys: pytest.CaptureFixture[str],
) -> None:
    for words, command in sub_commands(build_parser()):
        if command._subparsers is None:
            assert "-o" in command._option_string_actions, words
            assert command._option_string_actions["-o"].dest == "output", words
    assert usage_error(capsys, "lock", "-o", "x.lock", "m.yaml").endswith(
        "(choose from 'text', 'json', 'markdown'); -o is --output, as on every command: the lock "
        "file is "
        "--lock-file PATH"
    )


def test_every_command_s_help_has_an_example(capsys: pytest.CaptureFixture[str]) -> None:
    for words, command in sub_commands(build_parser()):
        name = " ".join(("tagmgr", *words))
        text = command.format_help()
        assert "\nexamples:\n" in text, name
        example = text.split("\nexamples:\n", 1)[1].splitlines()
        assert all(line.startswith("  ") for line in example), name
        assert any(name in line for line in example), name


COPYING = {("apply",), ("promote",), ("versions", "release")}


def test_engine_only_where_an_image_is_copied() -> None:
    taking = {
        words
        for words, command in sub_commands(build_parser())
        if "--engine" in command._option_string_actions
    }
    assert taking == COPYING


def test_in_use_takes_one_path_so_a_repository_after_it_is_a_repository(tmp_path: Path) -> None:
    argv = ["expire", "--policy", "p.yaml", "--in-use", "deploy.yaml", "127.0.0.1:5000/team/app"]
    args = build_parser(argv).parse_args(argv)
    assert (args.in_use, [str(name) for name in args.names]) == (
        ["deploy.yaml"],
        ["127.0.0.1:5000/team/app"],
    )


def test_a_second_path_after_in_use_is_explained(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("b.yaml").write_text("", encoding="utf-8")
    last = usage_error(capsys, "status", "--in-use", "a.yaml", "b.yaml")
    assert last == (
        "tagmgr status: error: argument NAME: 'b.yaml' is a path, not a repository: --in-use "
        "takes one path; repeat it for each (--in-use PATH --in-use b.yaml)"
    )


def test_versions_export_formats_env_by_default() -> None:
    argv = ["versions", "export", "examples/versions.yaml"]
    assert build_parser(argv).parse_args(argv).format == "env"


def test_help_exits_0_on_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as raised:
        main(["apply", "--help"])
    assert raised.value.code == 0
    assert capsys.readouterr().out.startswith("usage: tagmgr apply")


def test_the_command_table_is_argparse_s_own() -> None:
    """The shortening of long options stays argparse's (``--dry`` for ``--dry-run``)."""
    parser = build_parser(["apply"])
    assert isinstance(parser, argparse.ArgumentParser)
    assert parser.allow_abbrev
