"""What a run costs in requests, and how hard it presses a registry.

A no-op plan: one tags/list per repository and one HEAD per reference it compares, each
reference asked about once however many entries share it; with --trust-existing, the tag lists
only. Counted by a proxy in front of the real registry. The pace is tested with a fake clock.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from tagmgr.registry.pace import Pace
from tests.support.e2e import run_tagmgr, write_manifest
from tests.support.faults import fault_proxy
from tests.support.oci import ImageFactory
from tests.support.push import push
from tests.support.registry import RegistryServer


def kinds_of(seen: list[str]) -> Counter[str]:
    def kind(line: str) -> str:
        method, path = line.split(" ", 1)
        if path == "/v2/":
            return "ping"
        return f"{method} {'tags/list' if '/tags/list' in path else path.split('/')[-2]}"

    return Counter(kind(line) for line in seen)


@pytest.mark.integration
def test_a_no_op_plan_asks_once_per_repository_and_once_per_reference(
    registry: RegistryServer,
    repo: str,
    images: ImageFactory,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with fault_proxy(registry.address, lambda method, target: None) as proxy:
        entries = []
        for r in range(3):
            image = images.oci(str(r))
            for tag in ("build-1", "v1", "v2", "v3"):
                push(registry.address, f"{repo}/app-{r}", tag, image)
            entries += [
                {"name": f"{proxy.address}/{repo}/app-{r}", "src_build_tag": "build-1", "tag": t}
                for t in ("v1", "v2", "v3")
            ]
        manifest = write_manifest(tmp_path / "m.yaml", entries)

        result = run_tagmgr(capsys, "plan", manifest)
        assert result.code == 0, result.out
        assert kinds_of(proxy.seen) == {"ping": 1, "GET tags/list": 3, "HEAD manifests": 12}

        proxy.seen.clear()
        trusting = run_tagmgr(capsys, "plan", "--trust-existing", manifest)
        assert trusting.code == 0, trusting.out
        assert "plan: 0 to create, 9 present" in trusting.out
        assert kinds_of(proxy.seen) == {"ping": 1, "GET tags/list": 3}


def test_requests_in_flight_are_bounded() -> None:
    pace, busy, most = Pace(concurrency=3), [0], [0]
    lock = threading.Lock()

    def request() -> None:
        with pace.slot():
            with lock:
                busy[0] += 1
                most[0] = max(most[0], busy[0])
            time.sleep(0.01)
            with lock:
                busy[0] -= 1

    threads = [threading.Thread(target=request) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert most[0] == 3


def test_max_rps_spaces_the_starts() -> None:
    now, waits = [100.0], []

    def sleep(seconds: float) -> None:
        waits.append(round(seconds, 6))
        now[0] += seconds

    pace = Pace(max_rps=4, clock=lambda: now[0], sleep=sleep)
    for _ in range(4):
        with pace.slot():
            pass
    assert waits == [0.25, 0.25, 0.25]
