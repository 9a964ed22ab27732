"""tagmgr as CI runs it against registries that fail: every tenth answer a 500 through a proxy,
and a registry killed for good mid-apply."""

from __future__ import annotations

import json
import re
import signal
import time
from pathlib import Path

import pytest

from tests.support.e2e import entries_for, run_tagmgr, write_manifest
from tests.support.faults import every, fault_proxy
from tests.support.launch import COPY_STARTS, WATCHED_APPLY, launch, leftovers
from tests.support.oci import ImageFactory
from tests.support.push import head_digest, push
from tests.support.registry import RegistryServer


def test_plan_and_apply_succeed_when_every_tenth_answer_is_a_500(
    registry: RegistryServer,
    repo: str,
    images: ImageFactory,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Faults hit every request: tag lists, HEADs, manifest PUTs and the read-backs."""
    repos = [f"{repo}/r{index}" for index in range(8)]
    digests = []
    for index, name in enumerate(repos):
        image = images.index() if index % 2 else images.oci()
        push(registry.address, name, "build", image)
        digests.append(image.digest)
    with fault_proxy(registry.address, every(10, "status")) as proxy:
        manifest = write_manifest(tmp_path / "m.yaml", entries_for(proxy.address, repos, "build"))
        planned = run_tagmgr(capsys, "plan", "--output", "json", "--detailed-exitcode", manifest)
        applied = run_tagmgr(capsys, "apply", "--yes", "--output", "json", manifest)
        again = run_tagmgr(capsys, "plan", "--output", "json", "--detailed-exitcode", manifest)
        faults, requests = len(proxy.faults), len(proxy.seen)
    plan_none = dict.fromkeys(("create", "present", "conflict", "missing-source", "error"), 0)
    apply_none = dict.fromkeys(("created", "present", "failed", "conflict", "not-started"), 0)
    assert (planned.code, planned.json()["summary"]) == (2, {**plan_none, "create": 8})
    assert (applied.code, applied.json()["summary"]) == (0, {**apply_none, "created": 8})
    assert (again.code, again.json()["summary"]) == (0, {**plan_none, "present": 8})
    assert faults == requests // 10
    assert faults >= 5
    assert [head_digest(registry.address, name, "v1") for name in repos] == digests


def test_a_registry_killed_for_good_mid_apply_fails_its_entries_at_once_and_others_go_on(
    registry: RegistryServer, images: ImageFactory, tmp_path: Path
) -> None:
    """Twelve entries on a registry that dies as the third copy starts, then three on another.

    Before, each entry waited out its own retries (126.5 s for 138 entries); now the registry
    is settled as down after 4 failed connections in a row and the rest fail at once."""
    doomed = RegistryServer(tmp_path / "doomed")
    with doomed:
        doomed_repos = [f"faults/d{index}" for index in range(12)]
        live_repos = [f"faults/live-{tmp_path.name}-{index}" for index in range(3)]
        for name in doomed_repos:
            push(doomed.address, name, "build", images.oci())
        for name in live_repos:
            push(registry.address, name, "build", images.oci())
        entries = entries_for(doomed.address, doomed_repos, "build") + entries_for(
            registry.address, live_repos, "build"
        )
        manifest = write_manifest(tmp_path / "m.yaml", entries)
        args = (*WATCHED_APPLY, "--output", "json", "--jobs", "1", manifest)
        process, marker, _ = launch(tmp_path / "run", *args)
        try:
            assert process.stderr is not None
            copies = 0
            while copies < 3 and (line := process.stderr.readline()):
                copies += line.startswith(COPY_STARTS)
            doomed.stop()
            killed = time.monotonic()
            out, err = process.communicate(timeout=60)
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
                process.communicate()
    seconds = time.monotonic() - killed
    results = json.loads(out)["entries"]
    refused = re.escape(f"cannot connect to http://{doomed.address}/v2/faults/") + (
        r"d[23]/manifests/v1: connection refused"  # the failed copy's HEAD, or the next entry's
    )
    down = re.compile(
        re.escape(f"registry {doomed.address}: down: 4 connection attempts in a row failed ")
        + f"\\(the last: {refused}\\)"
        + re.escape("; nothing more is sent to it in this run")
    )
    assert process.returncode == 1
    assert seconds < 20, f"{seconds:.1f} s after the registry died"
    assert [r["result"] for r in results] == ["created"] * 2 + ["failed"] * 10 + ["created"] * 3
    # The request that made it 4 says its own failure; every entry after it, that it is down.
    assert re.fullmatch(
        f"registry {re.escape(doomed.address)}: {refused}", results[3]["message"]
    ) or (down.fullmatch(results[3]["message"]))
    messages = {r["message"] for r in results[4:12]}
    assert len(messages) == 1
    assert down.fullmatch(messages.pop())
    assert leftovers(marker) == []
    assert "Traceback" not in err
