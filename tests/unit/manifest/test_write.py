"""``describe --write``: concrete tags go in, every other byte of the manifest stays."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest
import yaml

from tagmgr.documents.yamltraps import yaml_scalar
from tagmgr.errors import ManifestError, TagmgrError
from tagmgr.manifest.model import ImageEntry, Upstream
from tagmgr.manifest.write import write_tags, write_values
from tagmgr.oci.reference import ImageReference


def names(text: str) -> dict[int, ImageReference]:
    """Each entry's image as a load of ``text`` read it."""
    images = yaml.safe_load(text)["images"]
    return {index: ImageReference.parse(image["name"]) for index, image in enumerate(images)}


def loaded(text: str) -> dict[int, ImageEntry]:
    """Each entry as a load of ``text`` read it: every value text (anchors followed)."""
    entries = {}
    for index, image in enumerate(yaml.load(text, Loader=yaml.BaseLoader)["images"]):  # noqa: S506 (text, lists and mappings only)
        upstream = image.get("upstream")
        entries[index] = ImageEntry(
            name=image["name"],
            src_build_tag=image.get("src_build_tag"),
            tag=image.get("tag"),
            field_path=f"images[{index}]",
            locations={},
            src_ref=image.get("src_ref"),
            upstream=Upstream(upstream["repo"], upstream["commit"], upstream.get("match"))
            if upstream
            else None,
            src_digest=image.get("src_digest"),
        )
    return entries


BEFORE = """\
# Images built from upstream releases.
tag_prefix: 'stx.4.0-'   # default for derived entries

images:
# a template, double-quoted, with a comment after it
- name: docker.io/starlingx/intel-gpu-plugin
  src_build_tag: master-distroless-stable-20191203T153530Z.0
  upstream: {repo: https://github.com/intel/intel-device-plugins-for-kubernetes, commit: 4f28657}
  tag: "stx.4.0-{describe}"   # filled in by describe --write

# tag_prefix form, upstream as a block mapping, odd indentation
-   name: docker.io/starlingx/k8s-cni-sriov
    upstream:
      repo: https://github.com/k8snetworkplumbingwg/sriov-cni
      match: 'v*'
      commit: a1b2c3d   # v2.6 plus fixes

    src_build_tag: "master-centos-stable-latest"

# a literal tag stays as written
- name: docker.io/starlingx/literal
  src_build_tag: x
  tag: 'v1.0'
- {name: docker.io/x/f, src_build_tag: x, upstream: {repo: up, commit: 123abcd}, tag: '{describe}'}
- {name: docker.io/starlingx/flow-prefix, src_build_tag: x,
   upstream: {repo: ../up, commit: 7654321}}  # flow mapping over two lines
- name: docker.io/starlingx/last
  src_build_tag: x
  upstream:
    repo: ../up
    commit: 89abcde"""

AFTER = """\
# Images built from upstream releases.
tag_prefix: 'stx.4.0-'   # default for derived entries

images:
# a template, double-quoted, with a comment after it
- name: docker.io/starlingx/intel-gpu-plugin
  src_build_tag: master-distroless-stable-20191203T153530Z.0
  upstream: {repo: https://github.com/intel/intel-device-plugins-for-kubernetes, commit: 4f28657}
  tag: stx.4.0-v0.18.0-12-g4f28657   # filled in by describe --write

# tag_prefix form, upstream as a block mapping, odd indentation
-   name: docker.io/starlingx/k8s-cni-sriov
    upstream:
      repo: https://github.com/k8snetworkplumbingwg/sriov-cni
      match: 'v*'
      commit: a1b2c3d   # v2.6 plus fixes
    tag: stx.4.0-v2.6-3-ga1b2c3d

    src_build_tag: "master-centos-stable-latest"

# a literal tag stays as written
- name: docker.io/starlingx/literal
  src_build_tag: x
  tag: 'v1.0'
- {name: docker.io/x/f, src_build_tag: x, upstream: {repo: up, commit: 123abcd}, tag: "1.10"}
- {name: docker.io/starlingx/flow-prefix, src_build_tag: x,
   upstream: {repo: ../up, commit: 7654321}, tag: stx.4.0-r5}  # flow mapping over two lines
- name: docker.io/starlingx/last
  src_build_tag: x
  upstream:
    repo: ../up
    commit: 89abcde
  tag: stx.4.0-v9"""

TAGS = {
    0: "stx.4.0-v0.18.0-12-g4f28657",
    1: "stx.4.0-v2.6-3-ga1b2c3d",
    2: "stx.4.0-ignored",  # a literal tag: left alone whatever the caller says
    3: "1.10",  # YAML would read a plain 1.10 as a number: quoted
    4: "stx.4.0-r5",
    5: "stx.4.0-v9",
}


@pytest.mark.parametrize("newline", ["\n", "\r\n"], ids=["lf", "crlf"])
def test_only_the_tags_change(tmp_path: Path, newline: str) -> None:
    manifest = tmp_path / "images.yaml"
    manifest.write_bytes(BEFORE.replace("\n", newline).encode())
    manifest.chmod(0o640)

    assert write_tags(manifest, TAGS, loaded(BEFORE)) == [0, 1, 3, 4, 5]

    assert manifest.read_bytes() == AFTER.replace("\n", newline).encode()
    assert stat.S_IMODE(manifest.stat().st_mode) == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["images.yaml"]  # no temporary file left
    images = yaml.safe_load(manifest.read_bytes())["images"]
    assert [image["tag"] for image in images] == [
        "stx.4.0-v0.18.0-12-g4f28657",
        "stx.4.0-v2.6-3-ga1b2c3d",
        "v1.0",
        "1.10",
        "stx.4.0-r5",
        "stx.4.0-v9",
    ]


def test_a_manifest_named_through_a_symlink_has_its_target_written(tmp_path: Path) -> None:
    """``describe --write`` and ``versions --write`` edit the file a link names; the link stays."""
    (tmp_path / "shared").mkdir()
    (tmp_path / "repo").mkdir()
    target = tmp_path / "shared" / "images.yaml"
    target.write_bytes(BEFORE.encode())
    link = tmp_path / "repo" / "images.yaml"
    link.symlink_to("../shared/images.yaml")

    assert write_tags(link, TAGS, loaded(BEFORE)) == [0, 1, 3, 4, 5]
    assert write_values(link, "src_build_tag", {2: "z"}, names(BEFORE), after="name") == [2]

    assert target.read_text() == AFTER.replace(
        "src_build_tag: x\n  tag: 'v1.0'", "src_build_tag: z\n  tag: 'v1.0'"
    )
    assert os.readlink(link) == "../shared/images.yaml"
    assert sorted(p.name for p in tmp_path.rglob("*")) == [
        "images.yaml",
        "images.yaml",
        "repo",
        "shared",
    ]


def test_a_manifest_that_became_a_fifo_is_refused_not_waited_on(tmp_path: Path) -> None:
    manifest = tmp_path / "images.yaml"
    os.mkfifo(manifest)
    outcome: list[str] = []

    def write() -> None:
        try:
            write_tags(manifest, TAGS, loaded(BEFORE))
        except TagmgrError as error:
            outcome.append(str(error))

    writer = threading.Thread(target=write)
    writer.start()
    writer.join(20)
    if writer.is_alive():  # blocked opening it: give it a writer so the test can end
        with manifest.open("wb"):
            pass
        writer.join()
    assert outcome == [
        f"{manifest}: cannot read it again to write it: is a FIFO (named pipe), not a regular file"
    ]


def test_written_manifest_has_nothing_left_to_write(tmp_path: Path) -> None:
    manifest = tmp_path / "images.yaml"
    manifest.write_text(AFTER)
    inode = manifest.stat().st_ino
    assert write_tags(manifest, TAGS, loaded(AFTER)) == []
    assert manifest.read_text() == AFTER
    assert manifest.stat().st_ino == inode  # not even rewritten


def test_block_scalar_before_the_insertion(tmp_path: Path) -> None:
    manifest = tmp_path / "images.yaml"
    manifest.write_text(
        "images:\n- name: docker.io/x/y\n  upstream:\n    commit: 4f28657\n    repo: |\n"
        "      https://example.org/y\n  src_build_tag: b # after\n"
    )
    write_tags(manifest, {0: "v1-2-g4f28657"}, loaded(manifest.read_text()))
    assert manifest.read_text() == (
        "images:\n- name: docker.io/x/y\n  upstream:\n    commit: 4f28657\n    repo: |\n"
        "      https://example.org/y\n  tag: v1-2-g4f28657\n  src_build_tag: b # after\n"
    )


def test_entry_without_tag_or_upstream(tmp_path: Path) -> None:
    manifest = tmp_path / "images.yaml"
    manifest.write_text("images:\n- name: docker.io/x/y\n  src_build_tag: b\n")
    with pytest.raises(ManifestError) as raised:
        write_tags(manifest, {0: "v1"}, loaded(manifest.read_text()))
    assert str(raised.value) == (f"{manifest}:2:3: tag: no tag and no upstream to derive one from")


def test_anchored_template_is_not_rewritten(tmp_path: Path) -> None:
    text = (
        "images:\n- {name: docker.io/x/a, upstream: {repo: r, commit: 4f28657}, "
        "tag: &t 'x-{describe}'}\n- {name: docker.io/x/b, upstream: {repo: r, commit: 4f28657},"
        " tag: *t}\n"
    )
    manifest = tmp_path / "images.yaml"
    manifest.write_text(text)
    with pytest.raises(ManifestError) as raised:
        write_tags(manifest, {1: "x-v1"}, loaded(text))
    assert str(raised.value) == (
        f"{manifest}:3:63: tag: write the tag template out instead of an anchor"
    )
    assert manifest.read_text() == text


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("v1.2-3-gabcdef0", "v1.2-3-gabcdef0"),
        ("1.10", '"1.10"'),
        ("2019", '"2019"'),
        ("on", '"on"'),
        ("null", '"null"'),
        ("1e3", '"1e3"'),
        ("y", '"y"'),
        ("release/1.0", '"release/1.0"'),
    ],
)
def test_yaml_scalar_quotes_only_when_needed(value: str, written: str) -> None:
    assert yaml_scalar(value) == written
    assert yaml.safe_load(written) == value


@pytest.mark.parametrize("image", ["docker.io/x/b", "docker.io/x/a"])
def test_a_file_changed_since_it_was_loaded_is_not_written(tmp_path: Path, image: str) -> None:
    """Edits go by position: an entry reordered meanwhile would get another entry's tag, even
    one of the same image (built from another upstream commit)."""
    manifest = tmp_path / "images.yaml"
    first = "- {name: docker.io/x/a, upstream: {repo: r, commit: 4f28657}, tag: 'a-{describe}'}\n"
    second = f"- {{name: {image}, upstream: {{repo: r, commit: 1a2b3c4}}, tag: 'b-{{describe}}'}}\n"
    as_read = loaded(f"images:\n{first}{second}")
    manifest.write_text(f"images:\n{second}{first}")
    with pytest.raises(ManifestError) as raised:
        write_tags(manifest, {0: "a-v1"}, as_read)
    assert str(raised.value) == (
        f"{manifest}:2:3: not the entry it was when the file was read; nothing was written"
        " (run again)"
    )
    assert manifest.read_text() == f"images:\n{second}{first}"
