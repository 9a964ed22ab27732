"""History retention end to end: a team promotes daily, then ``expire --keep-history N`` reclaims
what only old history tags kept, keeps the current digest and the newest N entries, rollback
still works on what remains, and after the registry's garbage collection all of it pulls whole."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from tagmgr.commands import lifecycle_run as run
from tests.integration.test_e2e_expire import POLICY, pulls_whole, signature_of
from tests.support.e2e import GATE, run_tagmgr
from tests.support.intact import problems, tags_of
from tests.support.oci import ImageFactory
from tests.support.push import head_digest, push
from tests.support.registry import RegistryServer

CHAIN = ("--chain", "dev,prd")
DAYS = 6
TO_PRD = (2, 5)  # the days whose build went on to prd


class Clock:
    """What ``tagmgr`` reads as now: set by the test, still between settings, so every history
    tag a promotion writes is named by the day the test says."""

    def __init__(self) -> None:
        self.now = datetime(2019, 1, 1, tzinfo=UTC)

    def at(self, day: int, hour: int) -> None:
        self.now = datetime(2019, 1, day, hour, tzinfo=UTC)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    frozen = Clock()
    monkeypatch.setattr(run, "now", lambda: frozen.now)
    return frozen


def build(day: int) -> str:
    return f"build-201901{day:02}T000000Z"


def history(environment: str, day: int) -> str:
    hour = 12 if environment == "dev" else 18
    return f"{environment}-201901{day:02}T{hour}0000Z"


@pytest.mark.integration
def test_keep_history_reclaims_old_promotions_and_rollback_works_on_what_is_left(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    repo: str,
    images: ImageFactory,
    clock: Clock,
) -> None:
    built = {day: images.oci(f"day {day}") for day in range(1, DAYS + 1)}
    sig_tag, signature = signature_of(built[1], images)
    with RegistryServer(tmp_path / "registry") as server:
        name = f"{server.address}/{repo}"
        for day, image in built.items():
            push(server.address, repo, build(day), image)
            clock.at(day, 12)
            promoted = run_tagmgr(
                capsys, "promote", f"{name}:{build(day)}", "--to", "dev", *CHAIN, "--yes"
            )
            assert promoted.code == 0, promoted.err
            if day in TO_PRD:
                clock.at(day, 18)
                promoted = run_tagmgr(
                    capsys, "promote", f"{name}@{image.digest}", "--to", "prd", *CHAIN, "--yes"
                )
                assert promoted.code == 0, promoted.err
        push(server.address, repo, sig_tag, signature)
        assert head_digest(server.address, repo, history("dev", 1)) == built[1].digest
        policy = tmp_path / "policy.yaml"
        policy.write_text(POLICY.format(name=name))
        clock.now = datetime(2019, 3, 1, tzinfo=UTC)
        expire = ("expire", "--policy", policy, *CHAIN, "--max-delete-share", "80%")

        everything = run_tagmgr(capsys, *expire, *GATE, "--output", "json")
        assert everything.code == 0, everything.err  # every image has a history tag: all stay
        kept = run_tagmgr(capsys, *expire, "--keep-history", "2", *GATE)
        assert kept.code == 2, kept.err
        assert kept.out.endswith("\nexpire: 4 to delete, 3 kept, in 1 repository\n")
        assert (
            f"delete   {name}@{built[4].digest}  ({build(4)}, {history('dev', 4)};"
            f" 2019-01-04T00:00:00Z from build tag {build(4)})\n"
            "         rule 1 (Expire images older than 30 days): older than 30 days\n"
            "         beyond the newest 2 history tags of each environment:"
            f" {history('dev', 4)}\n"
        ) in kept.out
        assert (
            f"keep     {name}@{built[2].digest}  ({build(2)}, {history('dev', 2)},"
            f" {history('prd', 2)}; 2019-01-02T00:00:00Z from build tag {build(2)})\n"
            "         rule 1 (Expire images older than 30 days): older than 30 days, but kept\n"
            f"         tag {history('prd', 2)} is one of the newest 2 history tags of prd\n"
        ) in kept.out

        deleted = run_tagmgr(capsys, *expire, "--keep-history", "2", "--yes")
        assert deleted.code == 0, deleted.err
        assert deleted.out.endswith("\nexpire: 4 deleted, 3 kept, in 1 repository\n")
        for gone in (built[1], built[3], built[4], signature):
            assert head_digest(server.address, repo, gone.digest) is None
        assert tags_of(server.address, repo) == sorted(
            [
                *(build(day) for day in (2, 5, 6)),
                *(history("dev", day) for day in (2, 5, 6)),
                *(history("prd", day) for day in TO_PRD),
                "dev",
                "prd",
            ]
        )

        status = run_tagmgr(capsys, "status", name, *CHAIN, "--output", "json")
        environments = status.json()["repositories"][0]["environments"]
        assert [(e["environment"], e["digest"]) for e in environments] == [
            ("dev", built[6].digest),
            ("prd", built[5].digest),
        ]
        assert [h["tag"] for h in environments[0]["history"]] == [
            history("dev", day) for day in (2, 5, 6)
        ]

        rolled = run_tagmgr(capsys, "rollback", name, "--env", "dev", *CHAIN, "--yes")
        assert rolled.code == 0, rolled.err
        assert head_digest(server.address, repo, "dev") == built[5].digest
        rolled = run_tagmgr(
            capsys, "rollback", name, "--env", "prd", "--to", history("prd", 2), *CHAIN, "--yes"
        )
        assert rolled.code == 0, rolled.err
        assert head_digest(server.address, repo, "prd") == built[2].digest
        expired = run_tagmgr(
            capsys, "rollback", name, "--env", "dev", "--to", history("dev", 3), *CHAIN, "--yes"
        )
        assert expired.code == 1
        assert expired.err.startswith(
            f"tagmgr: error: {history('dev', 3)} is not a history tag of dev in {name}"
        )
    server.garbage_collect()
    with server:
        assert problems(server.address, repo) == []
        for day in (2, 5, 6):
            pulls_whole(server.address, repo, built[day], tmp_path / f"pulled-{day}")
