"""Lock files: a fixed layout, byte-identical re-runs, and located errors on bad input."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]

from tagmgr.errors import LockError
from tagmgr.lifecycle.inuse import InUse
from tagmgr.lifecycle.sources import lock_in_use
from tagmgr.lock import (
    SCHEMA_PATH,
    Lock,
    LockedPlatform,
    LockedUpstream,
    LockEntry,
    read_lock,
    render_lock,
    write_lock,
)
from tagmgr.lock.check import (
    State,
    check_entry,
    check_exit_code,
    check_source,
    moved_entry,
    source_tag,
    to_update,
)
from tagmgr.oci.descriptor import Descriptor
from tagmgr.oci.reference import ImageReference
from tagmgr.reconcile.resolve import Resolution
from tests.support.paths import REPO_ROOT

A, B, C = ("sha256:" + c * 64 for c in "abc")
INDEX = "application/vnd.oci.image.index.v1+json"


def entry(target: str, digest: str = A, resolved_at: str = "2026-12-01T10:00:00Z") -> LockEntry:
    name = target.rpartition(":")[0]
    return LockEntry(
        source=ImageReference.parse(f"{name}:build-1"),
        target=ImageReference.parse(target),
        digest=digest,
        media_type=INDEX,
        resolved_at=resolved_at,
        platforms=(LockedPlatform("linux/arm64", C), LockedPlatform("linux/amd64", B)),
        src_ref="https://example.com/commit/1",
        upstream=LockedUpstream("https://example.com/up.git", "4f28657", "v1.0-3-g4f28657"),
    )


EXPECTED = f"""{{
  "entries": [
    {{
      "digest": "{A}",
      "media_type": "{INDEX}",
      "platforms": [
        {{
          "digest": "{B}",
          "platform": "linux/amd64"
        }},
        {{
          "digest": "{C}",
          "platform": "linux/arm64"
        }}
      ],
      "resolved_at": "2026-12-01T10:00:00Z",
      "source": "127.0.0.1:5000/a:build-1",
      "src_ref": "https://example.com/commit/1",
      "target": "127.0.0.1:5000/a:v1",
      "upstream": {{
        "commit": "4f28657",
        "describe": "v1.0-3-g4f28657",
        "repo": "https://example.com/up.git"
      }}
    }}
  ],
  "format": "tagmgr.lock/v1"
}}
"""


def test_the_layout_is_fixed_sorted_and_ends_with_a_newline() -> None:
    assert render_lock(Lock.of([entry("127.0.0.1:5000/a:v1")])) == EXPECTED


def test_entries_are_sorted_by_target_whatever_order_they_come_in() -> None:
    one = Lock.of([entry("127.0.0.1:5000/b:v1"), entry("127.0.0.1:5000/a:v1")])
    other = Lock.of([entry("127.0.0.1:5000/a:v1"), entry("127.0.0.1:5000/b:v1")])
    assert render_lock(one) == render_lock(other)
    assert [str(e.target) for e in one.entries] == ["127.0.0.1:5000/a:v1", "127.0.0.1:5000/b:v1"]


def test_nothing_moved_keeps_the_old_time_and_every_byte(tmp_path: Path) -> None:
    path = tmp_path / "tagmgr.lock"
    assert write_lock(path, Lock.of([entry("127.0.0.1:5000/a:v1")]))
    before = path.read_bytes()
    later = entry("127.0.0.1:5000/a:v1", resolved_at="2026-12-02T10:00:00Z")
    assert not write_lock(path, read_lock(path).replaced_by([later]))
    assert path.read_bytes() == before


def test_a_moved_entry_gets_its_new_digest_and_time() -> None:
    old = Lock.of([entry("127.0.0.1:5000/a:v1"), entry("127.0.0.1:5000/b:v1")])
    moved = entry("127.0.0.1:5000/a:v1", digest=B, resolved_at="2026-12-02T10:00:00Z")
    updated = old.updated([moved])
    assert updated.entries == (moved, old.entries[1])
    assert old.replaced_by([moved]).entries == (moved,)


def test_a_written_lock_reads_back_equal(tmp_path: Path) -> None:
    lock = Lock.of([entry("127.0.0.1:5000/a:v1"), entry("docker.io/library/x:v2")])
    path = tmp_path / "tagmgr.lock"
    write_lock(path, lock)
    assert read_lock(path) == lock


def test_in_use_names_target_source_and_every_platform(tmp_path: Path) -> None:
    path = tmp_path / "tagmgr.lock"
    write_lock(path, Lock.of([entry("127.0.0.1:5000/a:v1")]))
    name = "127.0.0.1:5000/a"
    assert lock_in_use(path) == [
        InUse(ImageReference.parse(f"{name}:v1@{A}"), f"{path}: {name}:v1"),
        InUse(ImageReference.parse(f"{name}:build-1@{A}"), f"{path}: {name}:build-1"),
        InUse(ImageReference.parse(f"{name}@{B}"), f"{path}: {name}@{B}"),
        InUse(ImageReference.parse(f"{name}@{C}"), f"{path}: {name}@{C}"),
    ]


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda d: d["entries"][0].update(digest="sha1:abc"),
            '{f}:4:17: entries[0].digest: "sha1:abc" is not a digest: sha256:<64 hex digits>'
            " or sha512:<128 hex digits>",
        ),
        (
            lambda d: d["entries"][0].pop("target"),
            "{f}:3:5: entries[0]: missing required key 'target'",
        ),
        (
            lambda d: d["entries"][0].update(colour="blue"),
            "{f}:4:7: entries[0].colour: unknown key 'colour'; expected one of: source, target,"
            " digest, media_type, platforms, resolved_at, src_ref, upstream",
        ),
        (
            lambda d: d.update(format="tagmgr.lock/v9"),
            '{f}:27:13: format: "tagmgr.lock/v9" is not the lock file format, tagmgr.lock/v1',
        ),
    ],
)
def test_a_bad_lock_is_refused_where_it_went_wrong(
    tmp_path: Path, edit: Callable[[Any], object], message: str
) -> None:
    path = tmp_path / "tagmgr.lock"
    document = json.loads(render_lock(Lock.of([entry("127.0.0.1:5000/a:v1")])))
    edit(document)
    path.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
    with pytest.raises(LockError) as caught:
        read_lock(path)
    assert str(caught.value) == message.format(f=path)


def test_a_truncated_lock_is_a_located_syntax_error(tmp_path: Path) -> None:
    path = tmp_path / "tagmgr.lock"
    path.write_text(EXPECTED[:200])
    with pytest.raises(LockError) as caught:
        read_lock(path)
    assert str(caught.value).startswith(f"{path}:")
    assert "YAML syntax error" in str(caught.value)


def test_an_empty_lock_says_how_to_make_one(tmp_path: Path) -> None:
    path = tmp_path / "tagmgr.lock"
    path.write_text("\n")
    with pytest.raises(LockError) as caught:
        read_lock(path)
    assert str(caught.value) == f"{path}:1:1: the file is empty; write one with tagmgr lock"


def test_the_lock_schema_is_a_valid_schema_and_installed_beside_the_reader() -> None:
    schema = json.loads(SCHEMA_PATH.read_text())
    Draft202012Validator.check_schema(schema)
    assert SCHEMA_PATH.resolve() == (REPO_ROOT / "schemas" / "lock.schema.json")


def test_a_target_locked_twice_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "tagmgr.lock"
    document = json.loads(render_lock(Lock.of([entry("127.0.0.1:5000/a:v1")])))
    document["entries"].append(document["entries"][0])
    path.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
    with pytest.raises(LockError) as caught:
        read_lock(path)
    assert str(caught.value) == (
        f"{path}:26:5: entries[1].target: 127.0.0.1:5000/a:v1 is locked twice;"
        " the first entry is entries[0]"
    )


def resolved(reference: ImageReference, digest: str | None) -> Resolution:
    media = "application/vnd.oci.image.manifest.v1+json"
    return Resolution(reference, Descriptor(media, digest, 100) if digest else None)


@pytest.mark.parametrize(
    ("field", "written", "expected"),
    [
        ("target", f"127.0.0.1:5000/a:v1@{A}", "the stable tag locked"),
        ("target", "127.0.0.1:5000/a", "the stable tag locked"),
        ("source", "127.0.0.1:5000/a", "what the target was made from"),
    ],
)
def test_a_reference_a_lock_cannot_hold_is_refused_at_its_place(
    tmp_path: Path, field: str, written: str, expected: str
) -> None:
    """A target with a digest was checked by its digest and never found moved; one without a
    tag was looked up as the tag 'None'; a source with neither was never checked."""
    path = tmp_path / "tagmgr.lock"
    document = json.loads(render_lock(Lock.of([entry("127.0.0.1:5000/a:v1")])))
    document["entries"][0][field] = written
    path.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
    with pytest.raises(LockError) as caught:
        read_lock(path)
    assert f"entries[0].{field}: " in str(caught.value)
    assert f"is not {expected}" in str(caught.value)


def test_a_build_tag_that_points_elsewhere_is_a_moved_source_and_fails_the_check() -> None:
    locked = entry("127.0.0.1:5000/a:v1")
    build = source_tag(locked)
    assert build is not None
    assert str(build) == "127.0.0.1:5000/a:build-1"
    target = check_entry(locked, resolved(locked.target, A))
    moved = check_source(locked, resolved(build, B))
    assert (moved.state, moved.source, moved.locked_digest, moved.new_digest) == (
        State.SOURCE_MOVED,
        True,
        A,
        B,
    )
    assert check_exit_code([target, moved]) == 2
    # Never rewritten by --update, nor is its entry when the target moved with it.
    target_moved = check_entry(locked, resolved(locked.target, B))
    assert to_update([target_moved, moved]) == []
    assert to_update([target_moved]) == [target_moved]


def test_a_build_tag_that_went_is_said_but_fails_nothing() -> None:
    locked = entry("127.0.0.1:5000/a:v1")
    gone = check_source(locked, resolved(locked.source, None))
    assert gone.state is State.SOURCE_GONE
    assert check_exit_code([check_entry(locked, resolved(locked.target, A)), gone]) == 0


def test_a_source_by_digest_alone_has_nothing_to_check() -> None:
    by_digest = replace(
        entry("127.0.0.1:5000/a:v1"), source=ImageReference.parse(f"127.0.0.1:5000/a@{A}")
    )
    assert source_tag(by_digest) is None


def test_following_a_moved_target_keeps_the_digest_its_build_tag_was_locked_at() -> None:
    locked = entry("127.0.0.1:5000/a:v1")
    moved = check_entry(locked, resolved(locked.target, B))
    followed = moved_entry(moved, "2026-12-02T10:00:00Z")
    assert (str(followed.source), followed.digest) == (f"127.0.0.1:5000/a:build-1@{A}", B)
    assert followed.source_digest == A
    # The build tag is checked against that digest from then on, and the lock reads back.
    followed_build = source_tag(followed)
    assert followed_build is not None
    assert check_source(followed, resolved(followed_build, A)).state is State.UNCHANGED
    assert render_lock(Lock.of([followed])).count(f'"source": "127.0.0.1:5000/a:build-1@{A}"')
    # Moved back to where its build tag is: the source is the plain build tag again.
    back = moved_entry(check_entry(followed, resolved(locked.target, A)), "2026-12-03T10:00:00Z")
    assert str(back.source) == "127.0.0.1:5000/a:build-1"


def test_a_lock_that_changed_since_it_was_read_is_not_written_over(tmp_path: Path) -> None:
    """check --update and lock read the file, then the registries, then ask: an entry another
    run wrote meanwhile would be lost."""
    path = tmp_path / "tagmgr.lock"
    first = Lock.of([entry("127.0.0.1:5000/a:v1")])
    write_lock(path, first)
    read = read_lock(path)
    meanwhile = Lock.of([*first.entries, entry("127.0.0.1:5000/b:v1")])
    write_lock(path, meanwhile)
    update = Lock.of([entry("127.0.0.1:5000/a:v1", B)])
    with pytest.raises(LockError, match="changed since it was read; not written"):
        write_lock(path, update, read_as=read)
    assert read_lock(path) == meanwhile
    assert write_lock(path, Lock.of([*meanwhile.entries[1:], *update.entries]), read_as=meanwhile)
