"""``--shard K/N``: deterministic, by repository, disjoint, and together the whole manifest."""

from __future__ import annotations

from pathlib import Path

import pytest

from tagmgr.errors import Location, TagmgrError
from tagmgr.manifest.model import ImageEntry
from tagmgr.reference import ImageReference
from tagmgr.shard import Shard, parse_shard
from tagmgr.targets import Resolved, Target, Unresolved
from tests.e2e import run_tagmgr, write_manifest
from tests.support.oci import ImageFactory
from tests.support.push import push
from tests.support.registry import RegistryServer


def entries(repositories: int, tags: int) -> list[Resolved]:
    items: list[Resolved] = []
    for r in range(repositories):
        name = f"registry.example/team/app-{r}"
        ref = ImageReference.parse(name)
        for t in range(tags):
            entry = ImageEntry(name, "build-1", f"v{t}", f"images[{t}]", {"": Location("m", 1, 1)})
            items.append(Target(entry, ref.with_tag("build-1"), ref.with_tag(f"v{t}")))
        items.append(Unresolved(ImageEntry(name, "b", None, "x", {"": Location("m", 1, 1)}), "?"))
    return items


@pytest.mark.parametrize("count", [1, 2, 3, 7])
def test_the_shards_are_disjoint_and_cover_everything(count: int) -> None:
    items = entries(20, 3)
    parts = [Shard(k, count).select(items) for k in range(count)]
    chosen = [id(item) for part in parts for item in part]
    assert sorted(chosen) == sorted(id(item) for item in items)
    for part in parts:
        names = {item.entry.name for item in part}
        assert all(item.entry.name in names for item in part)  # a repository stays whole
        assert len(part) == 4 * len(names)


def test_the_split_is_the_same_everywhere() -> None:
    ref = ImageReference.parse("registry.example/team/app-0")
    assert [Shard(k, 4).holds(ref) for k in range(4)] == [False, True, False, False]


def test_index_reads_the_job_completion_index() -> None:
    assert parse_shard("index/4", {"JOB_COMPLETION_INDEX": "3"}) == Shard(3, 4)
    assert parse_shard("1/2", {}) == Shard(1, 2)


@pytest.mark.parametrize(
    ("text", "environ", "message"),
    [
        ("2", {}, "--shard 2: expected K/N (K from 0 to N-1) or index/N"),
        ("2/2", {}, "--shard 2/2: K must be from 0 to N-1, and N at least 1"),
        ("0/0", {}, "--shard 0/0: K must be from 0 to N-1, and N at least 1"),
        ("index/3", {}, "--shard index/3: JOB_COMPLETION_INDEX is not set to a number"),
        (
            "index/3",
            {"JOB_COMPLETION_INDEX": "3"},
            "--shard index/3: K must be from 0 to N-1, and N at least 1",
        ),
    ],
)
def test_bad_shards_are_usage_errors(text: str, environ: dict[str, str], message: str) -> None:
    with pytest.raises(TagmgrError) as caught:
        parse_shard(text, environ)
    assert str(caught.value) == message


@pytest.mark.integration
def test_the_shards_plans_add_up_to_the_whole_plan(
    registry: RegistryServer,
    repo: str,
    images: ImageFactory,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    names = [f"{registry.address}/{repo}/app-{n}" for n in range(6)]
    for n in range(len(names)):
        push(registry.address, f"{repo}/app-{n}", "build-1", images.oci(str(n)))
    manifest = write_manifest(
        tmp_path / "m.yaml", [{"name": n, "src_build_tag": "build-1", "tag": "v1"} for n in names]
    )
    whole = run_tagmgr(capsys, "plan", "--output=json", manifest).json()["entries"]
    parts = []
    for index in range(3):
        monkeypatch.setenv("JOB_COMPLETION_INDEX", str(index))
        planned = run_tagmgr(capsys, "plan", "--output=json", "--shard=index/3", manifest)
        assert planned.code == (2 if planned.json()["entries"] else 0), planned.err
        parts.append(planned.json()["entries"])
    assert sorted(e["target"] for part in parts for e in part) == sorted(e["target"] for e in whole)
    assert len(whole) == 6
