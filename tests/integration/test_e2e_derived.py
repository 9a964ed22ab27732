"""Derived tags end to end: a real upstream git repository, the real CLI, a real registry.

The tag of an entry with ``upstream`` comes from ``git describe`` of its commit, either through a
``{describe}`` template or the manifest's ``tag_prefix``. ``plan`` and ``apply`` derive it on the
fly; ``describe --write`` pins it into the file, after which the entry is an ordinary literal tag.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.e2e import run_tagmgr
from tests.support.gitrepos import UpstreamRepo, isolate_git
from tests.support.oci import ImageFactory
from tests.support.push import head_digest, open_client, push
from tests.support.registry import RegistryServer

pytestmark = pytest.mark.integration

NO_TAG = "no tag is reachable from this commit (no tagged ancestor)"


@dataclass(frozen=True)
class Upstream:
    path: Path
    early: str  # before any tag
    released: str  # tagged v0.11.0
    tip: str  # three commits after v0.11.0


@pytest.fixture
def upstream(tmp_path: Path) -> Upstream:
    """``tmp_path/upstream``: import, release 0.11.0 (annotated tag v0.11.0), three fixes."""
    repo = UpstreamRepo(tmp_path / "upstream")
    early = repo.commit("import")
    released = repo.commit("release 0.11.0")
    repo.tag("v0.11.0", annotated=True)
    *_, tip = repo.commits("fix one", "fix two", "fix three")
    return Upstream(repo.path, early, released, tip)


@pytest.fixture(autouse=True)
def _isolated_git(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No git config of the user's; a default git cache, if anything used it, in tmp_path."""
    isolate_git(monkeypatch)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))


def clones(tmp_path: Path) -> list[str]:
    """Clones in the --git-cache these tests pass; the default cache must stay unused."""
    assert not (tmp_path / "xdg-cache").exists()
    return sorted(p.name for p in (tmp_path / "git-cache").iterdir() if p.is_dir())


def test_derived_tags_planned_applied_then_written(
    registry: RegistryServer,
    repo: str,
    images: ImageFactory,
    upstream: Upstream,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    address = registry.address
    first, second = images.oci("template"), images.index("prefix")
    push(address, f"{repo}-a", "build-1", first)
    push(address, f"{repo}-b", "build-2", second)
    tip, released = upstream.tip[:7], upstream.released[:7]
    manifests = tmp_path / "manifests"
    manifests.mkdir()
    manifest = manifests / "images.yaml"
    # A relative upstream path is relative to the manifest's directory: ../upstream.
    before = f"""\
# Images built from upstream releases.
tag_prefix: stx.4.0-   # for derived entries without a tag

images:
- name: {address}/{repo}-a
  src_build_tag: build-1
  upstream: {{repo: 'file://{upstream.path}', commit: '{tip}'}}
  tag: "stx.4.0-{{describe}}"   # filled in by describe --write

- name: {address}/{repo}-b
  src_build_tag: build-2
  upstream:
    repo: ../upstream
    commit: '{released}'
"""
    manifest.write_text(before, encoding="utf-8")
    cache = f"--git-cache={tmp_path / 'git-cache'}"
    derived_a = f"stx.4.0-v0.11.0-3-g{tip}"  # always 7 hex digits of the commit
    target_a = f"{address}/{repo}-a:{derived_a}"
    target_b = f"{address}/{repo}-b:stx.4.0-v0.11.0"

    def lines(word: str, *, derived: bool = True) -> str:
        describe_a = f" (git describe: v0.11.0-3-g{tip})" if derived else ""
        describe_b = " (git describe: v0.11.0)" if derived else ""
        return (
            f"{word:<15} {target_a} <- build-1{describe_a}  {first.digest[:19]}\n"
            f"{word:<15} {target_b} <- build-2{describe_b}  {second.digest[:19]}\n"
        )

    planned = run_tagmgr(capsys, "plan", "--detailed-exitcode", cache, manifest)
    assert (planned.code, planned.err) == (2, "")
    assert planned.out == lines("create") + (
        "\nplan: 2 to create, 0 present, 0 conflicts, 0 missing sources, 0 errors\n"
    )

    applied = run_tagmgr(capsys, "apply", "--yes", cache, manifest)
    assert (applied.code, applied.err) == (0, "")
    assert applied.out == lines("created") + "\napply: 2 created, 0 present, 0 failed\n"
    assert head_digest(address, f"{repo}-a", derived_a) == first.digest
    assert head_digest(address, f"{repo}-b", "stx.4.0-v0.11.0") == second.digest

    again = run_tagmgr(capsys, "plan", cache, manifest)
    assert (again.code, again.err) == (0, "")
    assert again.out == lines("present") + (
        "\nplan: 0 to create, 2 present, 0 conflicts, 0 missing sources, 0 errors\n"
    )

    written = run_tagmgr(capsys, "describe", "--write", cache, manifest)
    assert written.code == 0, written.err
    assert written.out == (
        f"{target_a}  (git describe: v0.11.0-3-g{tip})\n{target_b}  (git describe: v0.11.0)\n"
    )
    after = f"""\
# Images built from upstream releases.
tag_prefix: stx.4.0-   # for derived entries without a tag

images:
- name: {address}/{repo}-a
  src_build_tag: build-1
  upstream: {{repo: 'file://{upstream.path}', commit: '{tip}'}}
  tag: {derived_a}   # filled in by describe --write

- name: {address}/{repo}-b
  src_build_tag: build-2
  upstream:
    repo: ../upstream
    commit: '{released}'
  tag: stx.4.0-v0.11.0
"""
    assert manifest.read_text(encoding="utf-8") == after

    pinned = run_tagmgr(capsys, "plan", cache, manifest)
    assert (pinned.code, pinned.err) == (0, "")
    assert pinned.out == lines("present", derived=False) + (
        "\nplan: 0 to create, 2 present, 0 conflicts, 0 missing sources, 0 errors\n"
    )
    assert len(clones(tmp_path)) == 1  # the file:// URL and ../upstream name one repository


def test_commit_without_a_tag_before_it_fails_alone(
    registry: RegistryServer,
    repo: str,
    images: ImageFactory,
    upstream: Upstream,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    address = registry.address
    early_image, late_image = images.oci("early"), images.oci("late")
    push(address, f"{repo}-early", "build-1", early_image)
    push(address, f"{repo}-late", "build-1", late_image)
    early, tip = upstream.early[:7], upstream.tip[:7]
    manifest = tmp_path / "images.yaml"
    manifest.write_text(
        f"""\
images:
- name: {address}/{repo}-early
  src_build_tag: build-1
  upstream: {{repo: {upstream.path}, commit: '{early}'}}
  tag: "stx.4.0-{{describe}}"
- name: {address}/{repo}-late
  src_build_tag: build-1
  upstream: {{repo: {upstream.path}, commit: '{tip}'}}
  tag: "stx.4.0-{{describe}}"
""",
        encoding="utf-8",
    )
    cache = f"--git-cache={tmp_path / 'git-cache'}"
    failure = (
        f"{address}/{repo}-early ({manifest}:2:3)\n"
        f"{'':<15} upstream {upstream.path} commit {early}: {NO_TAG}\n"
    )
    late = f"{address}/{repo}-late:stx.4.0-v0.11.0-3-g{tip}"
    late_line = f"{late} <- build-1 (git describe: v0.11.0-3-g{tip})  {late_image.digest[:19]}\n"

    def recap(word: str) -> str:
        return (
            f"\nproblems:\n  {manifest}:2:3: images[0]: {word}: {address}/{repo}-early: upstream "
            f"{upstream.path} commit {early}: {NO_TAG}\n"
        )

    planned = run_tagmgr(capsys, "plan", cache, manifest)
    assert (planned.code, planned.err) == (1, "")
    assert planned.out == (
        f"{'error':<15} {failure}{'create':<15} {late_line}"
        "\nplan: 1 to create, 0 present, 0 conflicts, 0 missing sources, 1 errors\n"
        + recap("error")
    )

    applied = run_tagmgr(capsys, "apply", "--yes", cache, manifest)
    assert (applied.code, applied.err) == (1, "")
    assert applied.out == (
        f"{'failed':<15} {failure}{'created':<15} {late_line}"
        "\napply: 1 created, 0 present, 1 failed\n" + recap("failed")
    )
    assert head_digest(address, f"{repo}-late", f"stx.4.0-v0.11.0-3-g{tip}") == late_image.digest
    with open_client(address) as client:
        listed = client.get(f"/v2/{repo}-early/tags/list").json()
    assert listed["tags"] == ["build-1"]  # nothing was written for the failed entry

    described = run_tagmgr(capsys, "describe", cache, manifest)
    assert (described.code, described.err) == (1, "")
    assert described.out == (
        f"{manifest}:2:3: images[0]: upstream {upstream.path} commit {early}: {NO_TAG}\n"
        f"{late}  (git describe: v0.11.0-3-g{tip})\n"
    )
    assert len(clones(tmp_path)) == 1


def one_derived_entry(upstream: Upstream) -> tuple[str, str]:
    """A manifest of one entry whose tag derives from the upstream's tip, and the same manifest
    once ``describe --write`` has written the tag."""
    entry = (
        "images:\n- name: registry.example/team/app\n  src_build_tag: build-1\n"
        f"  upstream: {{repo: 'file://{upstream.path}', commit: '{upstream.tip}'}}\n"
        "  tag: 'stx.4.0-{describe}'\n"
    )
    return entry, entry.replace("'stx.4.0-{describe}'", f"stx.4.0-v0.11.0-3-g{upstream.tip[:7]}")


def test_describe_write_fills_in_an_entry_listed_twice(
    capsys: pytest.CaptureFixture[str], upstream: Upstream, tmp_path: Path
) -> None:
    """The same entry in two files is one target: each file still gets its tag written."""
    before, after = one_derived_entry(upstream)
    files = [tmp_path / "a.yaml", tmp_path / "b.yaml"]
    for path in files:
        path.write_text(before)
    written = run_tagmgr(
        capsys, "describe", "--write", f"--git-cache={tmp_path / 'git-cache'}", *files
    )
    assert written.code == 0, written.err
    assert [path.read_text() for path in files] == [after] * 2


def test_describe_write_writes_a_file_named_twice_once(
    capsys: pytest.CaptureFixture[str], upstream: Upstream, tmp_path: Path
) -> None:
    """A glob and a path that name one file: written once, exit 0."""
    before, after = one_derived_entry(upstream)
    path = tmp_path / "m.yaml"
    path.write_text(before)
    cache = f"--git-cache={tmp_path / 'git-cache'}"
    written = run_tagmgr(capsys, "describe", "--write", cache, path, tmp_path / "." / "m.yaml")
    assert written.code == 0, written.err
    assert path.read_text() == after
