"""The GitHub action (``action.yml``) and the GitLab CI template (``ci/gitlab/``), run as their CI
would run them: each file is parsed, its scripts taken out and run in a shell against a registry
on 127.0.0.1, with the variables the CI sets (``GITHUB_*`` and ``RUNNER_*``, ``CI_*``). The tests
assert what the CI would show: the job summary file and the report the scripts wrote, whole.

tagmgr is installed by the scripts themselves, from a snapshot of this checkout (the action's
``GITHUB_ACTION_PATH``; the template's ``git+file://...@COMMIT``), with nothing of tagmgr on
``PATH`` before; pip takes the dependencies from the session's wheelhouse (see ``conftest``).
Each file's install runs once, for its module's tests.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.e2e import write_manifest
from tests.support.gitrepos import UpstreamRepo
from tests.support.oci import Image, ImageFactory
from tests.support.paths import REPO_ROOT
from tests.support.push import head_digest, push
from tests.support.registry import RegistryServer

pytestmark = pytest.mark.integration

TIMEOUT = 300  # an install of tagmgr and its dependencies on a loaded machine
ACTION = REPO_ROOT / "action.yml"
GITLAB = REPO_ROOT / "ci" / "gitlab" / "tagmgr.gitlab-ci.yml"
EXPRESSION = re.compile(r"\$\{\{\s*([^}]*?)\s*\}\}")


def clean_environment(tmp: Path, wheelhouse: dict[str, str]) -> dict[str, str]:
    """A runner's environment, not this one: python3 and git in a directory of their own,
    the system's tools, no tagmgr anywhere on PATH, pip pointed at the wheelhouse."""
    tools = tmp / "tools"
    tools.mkdir()
    (tools / "python3").symlink_to(Path(sys.base_prefix) / "bin" / "python3")
    git = shutil.which("git")
    assert git is not None
    (tools / "git").symlink_to(git)
    home = tmp / "home"
    home.mkdir()
    environment = {
        **wheelhouse,
        "PATH": f"{tools}:/usr/bin:/bin",
        "HOME": str(home),
        "TMPDIR": str(tmp),
        "PIP_NO_COMPILE": "1",
        "LANG": "C.UTF-8",
        "CI": "true",
    }
    assert shutil.which("tagmgr", path=environment["PATH"]) is None
    return environment


@dataclass(frozen=True)
class Release:
    """A registry repository with ``build-1`` pushed, and a manifest giving it ``v1``; ``old``
    already has ``v1`` (present)."""

    address: str
    new: str
    old: str
    image: Image

    def entries(self) -> list[dict[str, str]]:
        return [
            {"name": f"{self.address}/{repo}", "src_build_tag": "build-1", "tag": "v1"}
            for repo in (self.old, self.new)
        ]


@pytest.fixture
def release(registry: RegistryServer, repo: str, images: ImageFactory) -> Release:
    image = images.oci()
    new, old = f"{repo}/new", f"{repo}/old"
    for name in (new, old):
        push(registry.address, name, "build-1", image)
    push(registry.address, old, "v1", image)
    return Release(registry.address, new, old, image)


def workspace(tmp: Path, release: Release) -> Path:
    """A checked-out repository of the user's: one manifest under manifests/."""
    root = tmp / "workspace"
    (root / "manifests").mkdir(parents=True)
    write_manifest(root / "manifests" / "release.yaml", release.entries())
    return root


def validate_summary() -> str:
    return (
        "## tagmgr validate\n\n"
        "valid: 2 images in 1 manifest\n\n"
        "| file | images |\n|---|---|\n"
        "| `manifests/release.yaml` | 2 |\n\n"
    )


def entries_table(release: Release, first: str, second: str) -> str:
    digest = release.image.digest[:19]
    return (
        "|  | target | source | digest | manifest | note |\n|---|---|---|---|---|---|\n"
        f"| {first} | `{release.address}/{release.old}:v1` | `build-1` | `{digest}` "
        "| `manifests/release.yaml:2` |  |\n"
        f"| {second} | `{release.address}/{release.new}:v1` | `build-1` | `{digest}` "
        "| `manifests/release.yaml:5` |  |\n\n"
    )


# GitHub Actions


def expand(text: str, context: Mapping[str, str]) -> str:
    """``${{ name }}`` with the action's context; anything else is a failure, not a guess."""

    def value(match: re.Match[str]) -> str:
        assert match.group(1) in context, f"{match.group(0)}: not an expression this test knows"
        return context[match.group(1)]

    return EXPRESSION.sub(value, text)


@dataclass
class Runner:
    """What a GitHub runner does with a composite action's steps: each ``run:`` written to a
    file and run by ``bash --noprofile --norc -eo pipefail`` in the workspace, with the step's
    ``env:`` and the runner's variables; what a step appends to ``$GITHUB_PATH`` is on PATH for
    the steps after it."""

    environment: dict[str, str]
    temp: Path

    def run(
        self, step: dict[str, Any], context: Mapping[str, str], **variables: str
    ) -> subprocess.CompletedProcess[str]:
        """``step`` with the expressions of ``context`` and the runner's ``variables``."""
        assert step["shell"] == "bash", step
        assert "${{" not in step["run"], "inputs reach scripts through env:, never spliced in"
        script = self.temp / f"step-{len(list(self.temp.glob('step-*')))}.sh"
        script.write_text(step["run"], encoding="utf-8")
        env = {
            **self.environment,
            **variables,
            **{name: expand(str(value), context) for name, value in step["env"].items()},
        }
        path_file = Path(self.environment["GITHUB_PATH"])
        added = path_file.read_text(encoding="utf-8").split() if path_file.exists() else []
        env["PATH"] = ":".join([*reversed(added), self.environment["PATH"]])
        return subprocess.run(
            ["/bin/bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
            cwd=env["GITHUB_WORKSPACE"],
            env=env,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )


@pytest.fixture(scope="module")
def action_steps() -> list[dict[str, Any]]:
    action = yaml.safe_load(ACTION.read_text(encoding="utf-8"))
    assert action["runs"]["using"] == "composite"
    steps: list[dict[str, Any]] = action["runs"]["steps"]
    assert [step["name"] for step in steps] == ["Install tagmgr", "tagmgr"]
    return steps


@pytest.fixture(scope="module")
def github(
    action_steps: list[dict[str, Any]],
    source_checkout: UpstreamRepo,
    wheelhouse: dict[str, str],
    tmp_path_factory: pytest.TempPathFactory,
) -> Runner:
    """A runner on which the action's install step has run."""
    tmp = tmp_path_factory.mktemp("github")
    runner_temp = tmp / "runner-temp"
    runner_temp.mkdir()
    environment = {
        **clean_environment(tmp, wheelhouse),
        "GITHUB_ACTIONS": "true",
        "GITHUB_ACTION_PATH": str(source_checkout.path),
        "GITHUB_PATH": str(runner_temp / "github-path"),
        "GITHUB_WORKSPACE": str(tmp),
        "RUNNER_TEMP": str(runner_temp),
        "RUNNER_OS": "Linux",
    }
    runner = Runner(environment, runner_temp)
    installed = runner.run(action_steps[0], inputs(action_steps, manifests=""))
    assert installed.returncode == 0, installed.stdout + installed.stderr
    assert installed.stdout.startswith("tagmgr ")
    return runner


def inputs(steps: list[dict[str, Any]], **given: str) -> dict[str, str]:
    """The action's inputs (defaults, then ``given``) and the github context, as expressions."""
    action = yaml.safe_load(ACTION.read_text(encoding="utf-8"))
    values = {name: str(spec.get("default", "")) for name, spec in action["inputs"].items()}
    values.update(given)
    return {
        **{f"inputs.{name}": value for name, value in values.items()},
        "github.event.repository.default_branch": "main",
    }


def run_action(
    github: Runner,
    steps: list[dict[str, Any]],
    tmp: Path,
    release: Release,
    event: str,
    ref: str,
    **given: str,
) -> tuple[subprocess.CompletedProcess[str], str]:
    """The action's tagmgr step for ``event`` on ``ref``; the job summary it left."""
    root = workspace(tmp, release)
    summary = tmp / "step-summary.md"
    summary.touch()  # the runner makes it, empty, for each step
    done = github.run(
        steps[1],
        inputs(steps, manifests="manifests/*.yaml", **given),
        GITHUB_WORKSPACE=str(root),
        GITHUB_EVENT_NAME=event,
        GITHUB_REF=ref,
        GITHUB_STEP_SUMMARY=str(summary),
    )
    return done, summary.read_text(encoding="utf-8")


def test_the_action_plans_a_pull_request_passes_it_and_writes_the_summary(
    github: Runner, action_steps: list[dict[str, Any]], release: Release, tmp_path: Path
) -> None:
    done, summary = run_action(
        github, action_steps, tmp_path, release, "pull_request", "refs/pull/7/merge"
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert summary == (
        validate_summary() + "## tagmgr plan\n\n"
        "1 to create, 1 present, 0 conflicts, 0 missing sources, 0 errors\n\n"
        + entries_table(release, "present", "create")
    )
    assert "plan: 1 to create, 1 present" in done.stdout
    assert head_digest(release.address, release.new, "v1") is None


def test_the_action_applies_on_the_default_branch(
    github: Runner, action_steps: list[dict[str, Any]], release: Release, tmp_path: Path
) -> None:
    done, summary = run_action(github, action_steps, tmp_path, release, "push", "refs/heads/main")
    assert done.returncode == 0, done.stdout + done.stderr
    assert summary == (
        validate_summary() + "## tagmgr apply\n\n"
        "1 created, 1 present, 0 failed\n\n" + entries_table(release, "present", "created")
    )
    assert head_digest(release.address, release.new, "v1") == release.image.digest


def test_the_action_fails_a_pull_request_whose_plan_cannot_be_applied(
    github: Runner,
    action_steps: list[dict[str, Any]],
    release: Release,
    images: ImageFactory,
    tmp_path: Path,
) -> None:
    other = images.oci("other")
    push(release.address, release.new, "v1", other)  # someone else's v1: a conflict
    done, summary = run_action(
        github, action_steps, tmp_path, release, "pull_request", "refs/pull/8/merge", options="-q"
    )
    assert done.returncode == 1, done.stdout + done.stderr
    target = f"{release.address}/{release.new}:v1"
    problem = (
        f"{target} already points at {other.digest}, not {release.image.digest}; "
        "an existing tag is never moved"
    )
    assert summary == (
        validate_summary() + "## tagmgr plan\n\n"
        "0 to create, 1 present, 1 conflicts, 0 missing sources, 0 errors\n\n"
        "|  | target | source | digest | manifest | note |\n|---|---|---|---|---|---|\n"
        f"| conflict | `{target}` | `build-1` | `{release.image.digest[:19]}` "
        f"| `manifests/release.yaml:5` | {problem} |\n\n"
        "Not shown (`--quiet`): 1 present\n\n"
        "### Problems (1)\n\n"
        f"- `manifests/release.yaml:5:3: images[1]`: conflict: {problem}\n\n"
    )
    assert f"manifests/release.yaml:5:3: images[1]: conflict: {problem}" in done.stdout


# GitLab CI


def job(template: dict[str, Any], name: str) -> dict[str, Any]:
    """A job with what it ``extends`` merged in, as GitLab merges it (variables key by key)."""
    own = template[name]
    base = job(template, own["extends"]) if "extends" in own else {}
    return {**base, **own, "variables": {**base.get("variables", {}), **own.get("variables", {})}}


def rule_holds(rule: str, variables: Mapping[str, str]) -> bool:
    """``$A == "text"`` and ``$A == $B``: the forms the template's rules use."""
    left, right = (side.strip() for side in rule.split("=="))

    def value(side: str) -> str | None:
        if side.startswith("$"):
            return variables.get(side[1:])
        text = side.removeprefix('"').removesuffix('"')
        assert side == f'"{text}"', side
        return text

    return value(left) is not None and value(left) == value(right)


def jobs_for(template: dict[str, Any], variables: Mapping[str, str]) -> list[str]:
    return [
        name
        for name, spec in template.items()
        if not name.startswith(".") and isinstance(spec, dict) and "script" in spec
        if any(rule_holds(r["if"], variables) for r in spec.get("rules", []))
    ]


@pytest.fixture(scope="module")
def gitlab_template() -> dict[str, Any]:
    template: dict[str, Any] = yaml.safe_load(GITLAB.read_text(encoding="utf-8"))
    for name in (name for name in template if name != "variables"):
        merged = job(template, name)
        for line in [*merged.get("before_script", []), *merged.get("script", [])]:
            assert isinstance(line, str), f"{name}: a script line YAML read as {line!r}"
    return template


def run_job(
    template: dict[str, Any], variables: dict[str, str], tmp: Path, release: Release
) -> tuple[str, subprocess.CompletedProcess[str], Path]:
    """The one job the pipeline's ``variables`` select, run as GitLab's shell runner runs it:
    its before_script and script lines in one ``sh -e``, in the project directory."""
    (name,) = jobs_for(template, variables)
    spec = job(template, name)
    root = workspace(tmp, release)
    env = {
        **template["variables"],
        **spec["variables"],
        **variables,
        "CI_PROJECT_DIR": str(root),
        "GITLAB_CI": "true",
    }
    script = "\n".join([*spec["before_script"], *spec["script"]])
    done = subprocess.run(
        ["/bin/sh", "-e", "-c", script],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    return name, done, root


Pipeline = Callable[..., dict[str, str]]


@pytest.fixture
def pipeline(source_checkout: UpstreamRepo, wheelhouse: dict[str, str], tmp_path: Path) -> Pipeline:
    """A pipeline's variables: a runner's environment, the project's (``TAGMGR_INSTALL`` at this
    checkout's commit), GitLab's own, and those given."""
    environment = clean_environment(tmp_path, wheelhouse)

    def variables(**given: str) -> dict[str, str]:
        return {
            **environment,
            "TAGMGR_INSTALL": f"git+file://{source_checkout.path}@{source_checkout.head()}",
            "CI_DEFAULT_BRANCH": "main",
            **given,
        }

    return variables


def test_the_gitlab_template_plans_a_merge_request_and_applies_on_the_default_branch(
    gitlab_template: dict[str, Any], pipeline: Pipeline, release: Release, tmp_path: Path
) -> None:
    merge_request = pipeline(CI_PIPELINE_SOURCE="merge_request_event", CI_MERGE_REQUEST_IID="7")
    name, planned, root = run_job(gitlab_template, merge_request, tmp_path / "mr", release)
    report = (root / "tagmgr-report.md").read_text(encoding="utf-8")
    assert (name, planned.returncode) == ("tagmgr-plan", 0), planned.stdout + planned.stderr
    assert report == (
        "## tagmgr plan\n\n"
        "1 to create, 1 present, 0 conflicts, 0 missing sources, 0 errors\n\n"
        + entries_table(release, "present", "create").removesuffix("\n")
    )
    assert report in planned.stdout  # the job log shows it
    assert "manifests/release.yaml: ok (2 images)" in planned.stdout
    assert head_digest(release.address, release.new, "v1") is None

    on_main = pipeline(CI_PIPELINE_SOURCE="push", CI_COMMIT_BRANCH="main")
    name, applied, root = run_job(gitlab_template, on_main, tmp_path / "main", release)
    report = (root / "tagmgr-report.md").read_text(encoding="utf-8")
    assert (name, applied.returncode) == ("tagmgr-apply", 0), applied.stdout + applied.stderr
    assert report == (
        "## tagmgr apply\n\n1 created, 1 present, 0 failed\n\n"
        + entries_table(release, "present", "created").removesuffix("\n")
    )
    assert head_digest(release.address, release.new, "v1") == release.image.digest


def test_the_gitlab_template_runs_no_job_on_other_branches(gitlab_template: dict[str, Any]) -> None:
    feature = {"CI_PIPELINE_SOURCE": "push", "CI_COMMIT_BRANCH": "feature"}
    assert jobs_for(gitlab_template, {**feature, "CI_DEFAULT_BRANCH": "main"}) == []
