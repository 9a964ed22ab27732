"""``--shard K/N`` as values: deterministic, by repository, disjoint, and together the whole
manifest; bad shards are usage errors."""

from __future__ import annotations

import pytest

from tagmgr.errors import Location, TagmgrError
from tagmgr.manifest.model import ImageEntry, Manifest
from tagmgr.reconcile.shard import Shard, parse_shard


def manifests(repositories: int, tags: int) -> list[Manifest]:
    """Two files, each with ``tags`` entries in each of ``repositories`` repositories."""
    entries = [
        ImageEntry(
            f"registry.example/team/app-{r}", "build-1", f"v{t}", "x", {"": Location("m", 1, 1)}
        )
        for r in range(repositories)
        for t in range(tags)
    ]
    return [Manifest("a.yaml", tuple(entries)), Manifest("b.yaml", tuple(reversed(entries)))]


@pytest.mark.parametrize("count", [1, 2, 3, 7])
def test_the_shards_are_disjoint_and_cover_everything(count: int) -> None:
    whole = manifests(20, 3)
    parts = [Shard(k, count).select(whole) for k in range(count)]
    for index, manifest in enumerate(whole):
        chosen = [id(entry) for part in parts for entry in part[index].entries]
        assert sorted(chosen) == sorted(id(entry) for entry in manifest.entries)
    for part in parts:
        names = {entry.name for manifest in part for entry in manifest.entries}
        assert sum(len(manifest.entries) for manifest in part) == 2 * 3 * len(names)


def test_the_split_is_the_same_everywhere() -> None:
    holds = [Shard(k, 4).holds("registry.example/team/app-0") for k in range(4)]
    assert holds == [False, True, False, False]
    assert Shard(1, 4).holds("Registry.Example/team/app-0")  # host names are case-insensitive


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
