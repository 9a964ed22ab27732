"""One confirmation model for apply, promote and expire, against a real registry.

Off a terminal (a CI job) nothing changes without ``--yes``: the run shows what would change and
fails; ``--dry-run`` shows it and succeeds (2 with ``--detailed-exitcode``). On a terminal (a
pseudo-terminal here, in a real process) the command shows it and asks; only ``y`` changes.
"""

from __future__ import annotations

import os
import pty
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.integration.test_cli import TAGMGR, answer, child_env, on_a_terminal, run_process
from tests.support.e2e import DRY_RUN_NOTE, one_entry_manifest, run_tagmgr
from tests.support.oci import ImageFactory
from tests.support.push import head_digest, push
from tests.support.registry import RegistryServer

OLD = ("build-20190101T000000Z", "build-20190102T000000Z", "build-20190103T000000Z")
POLICY = """\
repositories: [{name}]
rules:
- rulePriority: 1
  description: keep the newest image
  selection: {{tagStatus: any, countType: imageCountMoreThan, countNumber: 1}}
  action: {{type: expire}}
"""


@dataclass(frozen=True)
class Case:
    """One command that changes a registry: its arguments, what ``--yes`` would do as the
    error says it, the question it asks, and whether the change happened."""

    argv: tuple[str, ...]
    to: str
    question: str
    changed: Callable[[], bool]


def apply_case(address: str, repo: str, images: ImageFactory, tmp: Path) -> Case:
    push(address, repo, "build-1", images.oci())
    manifest = one_entry_manifest(tmp / "m.yaml", f"{address}/{repo}")
    return Case(
        ("apply", str(manifest)),
        "create these tags",
        "Create these tags? [y/N] ",
        lambda: head_digest(address, repo, "v1") is not None,
    )


def promote_case(address: str, repo: str, images: ImageFactory, tmp: Path) -> Case:
    push(address, repo, "build-1", images.oci())
    return Case(
        ("promote", f"{address}/{repo}:build-1", "--to", "dev"),
        f"move {address}/{repo}:dev",
        f"Move {address}/{repo}:dev? [y/N] ",
        lambda: head_digest(address, repo, "dev") is not None,
    )


def expire_case(address: str, repo: str, images: ImageFactory, tmp: Path) -> Case:
    for tag in OLD:
        push(address, repo, tag, images.oci(tag))
    policy = tmp / "policy.yaml"
    policy.write_text(POLICY.format(name=f"{address}/{repo}"), encoding="utf-8")
    return Case(
        ("expire", "--policy", str(policy), "--max-delete-share", "100%"),
        "delete these images",
        "Delete these 2 images? [y/N] ",
        lambda: head_digest(address, repo, OLD[0]) is None,
    )


CASES = {"apply": apply_case, "promote": promote_case, "expire": expire_case}


@pytest.fixture(params=sorted(CASES))
def case(
    request: pytest.FixtureRequest,
    registry: RegistryServer,
    repo: str,
    images: ImageFactory,
    tmp_path: Path,
) -> Case:
    return CASES[request.param](registry.address, repo, images, tmp_path)


def not_confirmed(to: str) -> str:
    return (
        "tagmgr: error: not confirmed, and no terminal to ask on: nothing was changed; give"
        f" --yes to {to}, or --dry-run to only show it\n"
    )


def test_off_a_terminal_nothing_changes_without_yes_and_the_job_fails(
    case: Case, capsys: pytest.CaptureFixture[str]
) -> None:
    """The PR job that runs ``promote`` (or apply, or expire) without --dry-run moves nothing."""
    forgot = run_tagmgr(capsys, *case.argv)
    assert (forgot.code, forgot.err) == (1, not_confirmed(case.to))
    assert forgot.out  # what would have changed, where the job's log shows it
    assert not case.changed()


def test_a_dry_run_succeeds_and_changes_nothing(
    case: Case, capsys: pytest.CaptureFixture[str]
) -> None:
    dry = run_tagmgr(capsys, *case.argv, "--dry-run")
    assert (dry.code, dry.err) == (0, DRY_RUN_NOTE)
    detailed = run_tagmgr(capsys, *case.argv, "--dry-run", "--detailed-exitcode")
    assert (detailed.code, detailed.err, detailed.out) == (2, DRY_RUN_NOTE, dry.out)
    assert not case.changed()


def test_yes_changes_and_a_second_run_needs_no_yes(
    case: Case, capsys: pytest.CaptureFixture[str]
) -> None:
    done = run_tagmgr(capsys, *case.argv, "--yes")
    assert (done.code, done.err) == (0, "")
    assert case.changed()
    again = run_tagmgr(capsys, *case.argv)  # nothing left to change: nothing to confirm
    assert (again.code, again.err) == (0, "")
    detailed = run_tagmgr(capsys, *case.argv, "--dry-run", "--detailed-exitcode")
    assert (detailed.code, detailed.err) == (0, "")


def test_yes_and_dry_run_together_are_a_usage_error(
    case: Case, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as raised:
        run_tagmgr(capsys, *case.argv, "--yes", "--dry-run")
    assert raised.value.code == 64
    assert "argument --dry-run: not allowed with argument --yes/-y" in capsys.readouterr().err
    assert not case.changed()


@pytest.mark.parametrize("reply", [b"n\n", b"\n", b"\x04"], ids=["n", "enter", "eof"])
def test_on_a_terminal_only_y_changes(case: Case, tmp_path: Path, reply: bytes) -> None:
    command = [*TAGMGR, *case.argv]
    refused = on_a_terminal(command, case.question, answer(reply), child_env(tmp_path))
    assert (refused.code, refused.out) == (1, "")  # shown on stderr, at the question
    assert refused.err.endswith("tagmgr: nothing was changed\n")
    assert not case.changed()
    accepted = on_a_terminal(command, case.question, answer(b"y\n"), child_env(tmp_path))
    assert accepted.code == 0, accepted.err
    assert accepted.err.endswith(case.question)
    assert case.changed()


@pytest.mark.parametrize("flag", ["--dry-run", "--yes"])
def test_on_a_terminal_a_flag_is_the_answer(case: Case, tmp_path: Path, flag: str) -> None:
    controller, side = pty.openpty()
    try:
        result = run_process(tmp_path, *TAGMGR, *case.argv, flag, stdin=side)
    finally:
        os.close(side)
        os.close(controller)
    assert case.question not in result.stderr
    assert result.returncode == 0, result.stderr
    assert case.changed() is (flag == "--yes")
