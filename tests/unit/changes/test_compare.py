"""Two layer stacks compared path by path, from layers made by hand: what differs, what an
ignore rule names, and which layers had to be read."""

from __future__ import annotations

from tagmgr.changes.compare import compare_files, compare_stacks
from tagmgr.changes.filesystem import LayerChanges
from tagmgr.changes.ignore import compile_rules
from tagmgr.changes.records import Kind, Record
from tagmgr.changes.verdict import Reason
from tagmgr.changes.walk import Layer

NOTHING_IGNORED = compile_rules([])
BASE = LayerChanges(
    {
        "etc": Record(Kind.DIRECTORY, 0o755, 0, 0),
        "etc/os-release": Record(Kind.FILE, 0o644, 0, 0, "sha256:os"),
        "etc/build-id": Record(Kind.FILE, 0o644, 0, 0, "sha256:id-1"),
    }
)


def file(content: str, mode: int = 0o644) -> Record:
    return Record(Kind.FILE, mode, 0, 0, content)


def layer(diff_id: str) -> Layer:
    return Layer(f"sha256:blob-{diff_id}", "application/vnd.oci.image.layer.v1.tar", diff_id)


def test_each_path_that_differs_is_one_reason_and_an_ignored_one_says_by_which_rule() -> None:
    a = {"app/run": file("sha256:1"), "app/old": file("sha256:2"), "etc/id": file("sha256:3")}
    b = {
        "app/run": file("sha256:9", 0o755),
        "app/new": Record(Kind.SYMLINK, 0o777, 0, 0, link="run"),
        "etc/id": file("sha256:4"),
    }
    assert compare_files(a, b, compile_rules(["etc/id"])) == [
        Reason("file-added", "app/new", "symlink"),
        Reason("file-removed", "app/old", "file"),
        Reason("file-modified", "app/run", "mode 0644 -> 0755, content sha256:1 -> sha256:9"),
        Reason("file-modified", "etc/id", "content sha256:3 -> sha256:4", ignored_by="etc/id"),
    ]
    assert compare_files(a, dict(a), NOTHING_IGNORED) == []


class Reader:
    """Serves layers by diff_id and records which it was asked for."""

    def __init__(self, layers: dict[str, LayerChanges]) -> None:
        self.layers = layers
        self.read: list[str] = []

    def __call__(self, which: Layer) -> LayerChanges:
        self.read.append(which.diff_id)
        return self.layers[which.diff_id]


def test_a_shared_base_is_not_read_when_the_layers_above_it_touch_the_same_paths() -> None:
    reader = Reader(
        {
            "base": BASE,
            "app-1": LayerChanges({"app/run": file("sha256:1")}),
            "app-2": LayerChanges({"app/run": file("sha256:2")}),
        }
    )
    reasons = compare_stacks(
        [layer("base"), layer("app-1")], [layer("base"), layer("app-2")], reader, NOTHING_IGNORED
    )
    assert reasons == [Reason("file-modified", "app/run", "content sha256:1 -> sha256:2")]
    assert reader.read == ["app-1", "app-2"]


def test_a_shared_base_is_read_once_when_one_side_whites_out_part_of_it() -> None:
    reader = Reader(
        {
            "base": BASE,
            "same": LayerChanges({"app/run": file("sha256:1")}),
            "wipe": LayerChanges({"app/run": file("sha256:1")}, whiteouts={"etc/build-id"}),
        }
    )
    reasons = compare_stacks(
        [layer("base"), layer("same")], [layer("base"), layer("wipe")], reader, NOTHING_IGNORED
    )
    assert reasons == [Reason("file-removed", "etc/build-id", "file")]
    assert reader.read == ["same", "wipe", "base"]
