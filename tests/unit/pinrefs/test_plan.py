"""pin-refs' decisions per file and its exit code, without files or registries."""

from __future__ import annotations

from pathlib import Path

from tagmgr import exitcodes
from tagmgr.documents.splice import Edit
from tagmgr.errors import Location
from tagmgr.filerefs.find import find_references
from tagmgr.filerefs.site import FileRefs, Site
from tagmgr.filerefs.walk import File, collect
from tagmgr.oci.reference import ImageReference
from tagmgr.pinrefs.edit import plan_file
from tagmgr.pinrefs.pins import Change, Pin, PinTable, Unresolvable
from tagmgr.pinrefs.plan import exit_code, plan_pins

APP = ImageReference.parse("docker.io/team/app")
TABLE = PinTable([Pin(APP, "v1", frozenset({"build-1"}), None)])


def _found(name: str, text: str) -> tuple[File, FileRefs]:
    return File(Path(name), Path(name)), find_references(name, text)


def test_every_decision_of_a_file_in_the_order_it_is_written() -> None:
    """A template is passed over (the values are pinned); what cannot be read is unresolvable."""
    text = (
        'a: {image: "{{ .Values.image }}"}\n'
        "b: {image: team/app:build-1}\n"
        "c:\n  image: ${APP}\n"
        "d: {image: team/app:old}\n"
    )
    (edit,) = plan_pins([_found("v.yaml", text)], TABLE, with_digest=False)
    assert [str(c.site.location) for c in edit.changes] == ["v.yaml:2:12"]
    assert edit.unresolvable == [
        Unresolvable(
            Location("v.yaml", 4, 10),
            "${APP}",
            "its value comes from a variable; tagmgr cannot tell which image it names",
        ),
        Unresolvable(
            Location("v.yaml", 5, 12),
            "team/app:old",
            "tag 'old' is neither a build tag nor a stable tag of docker.io/team/app (v1)",
        ),
    ]
    assert edit.new_text == text.replace("build-1", "v1")
    assert exit_code([edit]) == exitcodes.FAILURE


def test_exit_codes() -> None:
    pending = plan_pins([_found("v.yaml", "image: team/app\n")], TABLE, with_digest=False)
    assert exit_code(pending) == exitcodes.OK
    assert plan_pins([_found("v.yaml", "image: team/app:v1\n")], TABLE, with_digest=False) == []
    assert exit_code([]) == exitcodes.OK


def test_the_pins_own_sources_are_never_pinned(tmp_path: Path) -> None:
    manifest, lock, chart = tmp_path / "images.yaml", tmp_path / "tagmgr.lock", tmp_path / "c.yaml"
    for path in (manifest, lock, chart):
        path.write_text("")
    found = collect([tmp_path], leave_out={manifest.resolve()}).files
    assert [file.path for file in found] == [chart, lock]
    found = collect([tmp_path], leave_out={lock.resolve()}).files
    assert [file.path for file in found] == [chart, manifest]


def test_two_changes_that_would_write_the_same_characters_are_both_refused() -> None:
    """What no finder should give, and splice must never get: edits of one span with two values
    would mix. Identical edits (two references to one ARG default) are made once."""
    text = "tag: build-1\n"
    span = (5, 12)

    def site(line: int, written: str) -> Site:
        return Site(
            Location("f", line, 6),
            written,
            ImageReference.parse("docker.io/team/app:build-1"),
            lambda tag, _digest: (Edit(*span, tag),),
        )

    first, second, same = site(1, "a"), site(2, "b"), site(3, "c")
    mixed = plan_file(
        File(Path("f"), Path("f")),
        text,
        [Change(first, "v1", None), Change(same, "v1", None), Change(second, "v2", None)],
    )
    assert (mixed.changes, mixed.edits) == ([], [])
    assert [u.written for u in mixed.unresolvable] == ["a", "c", "b"]
    once = plan_file(
        File(Path("f"), Path("f")), text, [Change(first, "v1", None), Change(same, "v1", None)]
    )
    assert (once.new_text, once.unresolvable) == ("tag: v1\n", [])
