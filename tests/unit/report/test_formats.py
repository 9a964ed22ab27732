"""The formats render whole reports: these tests build plan and apply reports from actions made by
hand (no registry) and compare every byte of the text, JSON and Markdown they render."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tagmgr.errors import Location, ManifestError, Problem, RegistryError
from tagmgr.manifest.model import ImageEntry
from tagmgr.oci.descriptor import Descriptor
from tagmgr.oci.mediatypes import OCI_INDEX
from tagmgr.oci.reference import ImageReference
from tagmgr.reconcile.outcome import Outcome, Result
from tagmgr.reconcile.plan import Action, Kind
from tagmgr.reconcile.targets import Target
from tagmgr.report.core import applied, planned
from tagmgr.report.formats import FORMATS
from tagmgr.report.model import Options
from tagmgr.report.publish import STEP_SUMMARY, error_report, publish, report_error

SOURCE = Descriptor(OCI_INDEX, "sha256:" + "1" * 64, 500)
OTHER = Descriptor(OCI_INDEX, "sha256:" + "2" * 64, 500)
SHORT = SOURCE.digest[:19]


def target(line: int, repo: str) -> Target:
    index = (line - 2) // 3
    entry = ImageEntry(
        f"reg.example/{repo}",
        "build-1",
        "v1",
        f"images[{index}]",
        {"": Location("m.yaml", line, 3)},
    )
    ref = ImageReference.parse(entry.name)
    return Target(entry, ref.with_tag("build-1"), ref.with_tag("v1"))


CONFLICT = (
    f"reg.example/c:v1 already points at {OTHER.digest}, not {SOURCE.digest}; "
    "an existing tag is never moved"
)
ACTIONS = [
    Action(Kind.PRESENT, target(2, "a"), SOURCE, SOURCE),
    Action(Kind.CREATE, target(5, "b"), SOURCE),
    Action(Kind.CONFLICT, target(8, "c"), SOURCE, OTHER, CONFLICT),
    Action(Kind.ERROR, target(11, "d"), message="registry reg.example: unreachable"),
]


def render(output: str, **options: bool) -> str:
    return FORMATS[output](planned(ACTIONS), Options(output, **options))


def test_the_text_ends_with_a_recap_of_every_problem_at_its_place() -> None:
    assert render("text") == (
        f"present         reg.example/a:v1 <- build-1  {SHORT}\n"
        f"create          reg.example/b:v1 <- build-1  {SHORT}\n"
        f"conflict        reg.example/c:v1 <- build-1  {SHORT}\n"
        f"                {CONFLICT}\n"
        "error           reg.example/d:v1 <- build-1\n"
        "                registry reg.example: unreachable\n"
        "\n"
        "plan: 1 to create, 1 present, 1 conflicts, 0 missing sources, 1 errors\n"
        "\n"
        "problems:\n"
        f"  m.yaml:8:3: images[2]: conflict: {CONFLICT}\n"
        "  m.yaml:11:3: images[3]: error: reg.example/d:v1: registry reg.example: unreachable\n"
    )


def test_quiet_text_leaves_out_what_changes_nothing_and_says_so() -> None:
    text = render("text", quiet=True)
    assert "present         reg.example/a:v1" not in text
    assert text.startswith(f"create          reg.example/b:v1 <- build-1  {SHORT}\n")
    assert "\nplan: 1 to create, 1 present, 1 conflicts, 0 missing sources, 1 errors\n" in text
    assert "errors\nnot shown (--quiet): 1 present\n\nproblems:\n" in text


def test_json_has_the_envelope_every_count_and_located_problems() -> None:
    document = json.loads(render("json"))
    assert list(document) == ["format", "command", "entries", "summary", "problems"]
    assert document["summary"] == {
        "create": 1,
        "present": 1,
        "conflict": 1,
        "missing-source": 0,
        "error": 1,
    }
    assert document["problems"] == [
        {
            "file": "m.yaml",
            "line": 8,
            "column": 3,
            "field": "images[2]",
            "message": f"conflict: {CONFLICT}",
        },
        {
            "file": "m.yaml",
            "line": 11,
            "column": 3,
            "field": "images[3]",
            "message": "error: reg.example/d:v1: registry reg.example: unreachable",
        },
    ]
    first = document["entries"][0]
    assert {k: first[k] for k in ("file", "line", "column", "field", "entry")} == {
        "file": "m.yaml",
        "line": 2,
        "column": 3,
        "field": "images[0]",
        "entry": "images[0]",
    }
    assert render("json", quiet=True) == render("json")  # JSON is always whole


def test_markdown_is_a_heading_the_summary_a_table_and_the_problems() -> None:
    assert render("markdown") == (
        "## tagmgr plan\n"
        "\n"
        "1 to create, 1 present, 1 conflicts, 0 missing sources, 1 errors\n"
        "\n"
        "|  | target | source | digest | manifest | note |\n"
        "|---|---|---|---|---|---|\n"
        f"| present | `reg.example/a:v1` | `build-1` | `{SHORT}` | `m.yaml:2` |  |\n"
        f"| create | `reg.example/b:v1` | `build-1` | `{SHORT}` | `m.yaml:5` |  |\n"
        f"| conflict | `reg.example/c:v1` | `build-1` | `{SHORT}` | `m.yaml:8` | {CONFLICT} |\n"
        "| error | `reg.example/d:v1` | `build-1` |  | `m.yaml:11` | registry reg.example: "
        "unreachable |\n"
        "\n"
        "### Problems (2)\n"
        "\n"
        f"- `m.yaml:8:3: images[2]`: conflict: {CONFLICT}\n"
        "- `m.yaml:11:3: images[3]`: error: reg.example/d:v1: registry reg.example: unreachable\n"
    )


def test_quiet_markdown_counts_the_rows_it_leaves_out() -> None:
    markdown = render("markdown", quiet=True)
    assert "| present |" not in markdown
    assert "\nNot shown (`--quiet`): 1 present\n\n### Problems (2)\n" in markdown


def test_apply_counts_every_result_and_recaps_its_failures() -> None:
    outcomes = [
        Outcome(ACTIONS[0], Result.PRESENT),
        Outcome(ACTIONS[1], Result.NOT_STARTED, "interrupted before it started"),
    ]
    report = applied(outcomes)
    assert report.summary == {
        "created": 0,
        "present": 1,
        "failed": 0,
        "conflict": 0,
        "not-started": 1,
    }
    assert FORMATS["text"](report, Options()) == (
        f"present         reg.example/a:v1 <- build-1  {SHORT}\n"
        f"not-started     reg.example/b:v1 <- build-1  {SHORT}\n"
        "                interrupted before it started\n"
        "\n"
        "apply: 0 created, 1 present, 0 failed, 1 not started\n"
        "\n"
        "problems:\n"
        "  m.yaml:5:3: images[1]: not-started: reg.example/b:v1: interrupted before it started\n"
    )


def test_what_a_registry_says_cannot_add_markup_to_a_comment() -> None:
    hostile = "<img src=x onerror=alert(1)> [click](http://evil) `code` *bold* | pipe"
    action = Action(Kind.ERROR, target(2, "a"), message=hostile)
    markdown = FORMATS["markdown"](planned([action]), Options("markdown"))
    escaped = (
        "\\<img src=x onerror=alert(1)\\> \\[click\\](http://evil) \\`code\\` \\*bold\\* \\| pipe"
    )
    in_list = escaped.replace("\\|", "|")  # only a table's cells escape |
    assert f"| {escaped} |" in markdown
    assert f"- `m.yaml:2:3: images[0]`: error: reg.example/a:v1: {in_list}\n" in markdown
    assert "<img" not in markdown.replace("\\<img", "")


def test_a_failed_command_is_a_document_with_its_problems(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    error = ManifestError([Problem(Location("m.yaml", 4, 8), "images[0].tag", 'quote it: "1.10"')])
    assert FORMATS["markdown"](error_report(error, "validate"), Options("markdown")) == (
        "## tagmgr validate\n"
        "\n"
        "failed: 1 problem\n"
        "\n"
        "### Problems (1)\n"
        "\n"
        '- `m.yaml:4:8: images[0].tag`: quote it: "1.10"\n'
    )
    summary = tmp_path / "summary.md"
    monkeypatch.setenv(STEP_SUMMARY, str(summary))
    report_error(RegistryError("reg.example", "unreachable"), "text", "plan")
    assert capsys.readouterr() == ("", "tagmgr: error: registry reg.example: unreachable\n")
    assert summary.read_text(encoding="utf-8") == (
        "## tagmgr plan\n\nfailed: registry reg.example: unreachable\n\n"
    )


def test_the_step_summary_gets_markdown_whatever_the_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("# earlier steps\n", encoding="utf-8")
    monkeypatch.setenv(STEP_SUMMARY, str(summary))
    publish(planned(ACTIONS[:2]), Options("json"))
    assert json.loads(capsys.readouterr().out)["command"] == "plan"
    publish(planned(ACTIONS[:1]), Options("text", quiet=True))
    assert summary.read_text(encoding="utf-8") == (
        "# earlier steps\n"
        + FORMATS["markdown"](planned(ACTIONS[:2]), Options("markdown"))
        + "\n"
        + FORMATS["markdown"](planned(ACTIONS[:1]), Options("markdown", quiet=True))
        + "\n"
    )


def test_a_step_summary_that_cannot_be_written_is_said_and_changes_nothing_else(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(STEP_SUMMARY, str(tmp_path / "no" / "such" / "dir"))
    publish(planned(ACTIONS[:1]), Options())
    out, err = capsys.readouterr()
    assert out.startswith("present ")
    assert err == (
        f"tagmgr: warning: ${STEP_SUMMARY} {tmp_path}/no/such/dir: No such file or directory\n"
    )
