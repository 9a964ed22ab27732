"""The capacity run of ``make bench``: the fewest requests a piece of work needs, sent as cheaply
as Python sends them, so that its time is the registry's own limit on this machine.

A ``Capacity`` sends lists of ``Call`` from ``concurrency`` threads, each on one keep-alive
``http.client`` connection (no TLS, no auth: the bench's registry needs neither). Each list is
one thread's, in order (a PUT, then the HEAD that verifies it); the lists go to whichever
thread is free. Every answer is checked: a wrong status or digest stops the run.
"""

from __future__ import annotations

import http.client
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from tests.support.oci import Image
from tests.support.push import ACCEPT


class CapacityError(AssertionError):
    """The registry did not answer the capacity run as the work requires."""


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    digest: str | None = None
    """The ``Docker-Content-Digest`` the answer must carry, when it matters."""


def list_tags(repository: str) -> Call:
    return Call("GET", f"/v2/{repository}/tags/list", 200)


def head(repository: str, reference: str, digest: str) -> Call:
    return Call(
        "HEAD",
        f"/v2/{repository}/manifests/{reference}",
        200,
        digest=digest,
        headers={"Accept": ACCEPT},
    )


def put(repository: str, tag: str, media_type: str, body: bytes, digest: str) -> Call:
    headers = {"Content-Type": media_type}
    return Call("PUT", f"/v2/{repository}/manifests/{tag}", 201, body, headers, digest)


@dataclass(frozen=True)
class Capacity:
    address: str
    concurrency: int

    def run(self, work: Sequence[Sequence[Call]]) -> float:
        """Send ``work``; the seconds from the first request to the last answer."""
        pending = list(reversed(work))
        lock = threading.Lock()
        failures: list[BaseException] = []
        host, port = self.address.rsplit(":", 1)
        connections = [http.client.HTTPConnection(host, int(port)) for _ in range(self.concurrency)]

        def serve(connection: http.client.HTTPConnection) -> None:
            try:
                while not failures:
                    with lock:
                        if not pending:
                            return
                        calls = pending.pop()
                    for call in calls:
                        _send(connection, call)
            except BaseException as failure:  # handed to the caller below
                failures.append(failure)

        threads = [threading.Thread(target=serve, args=(c,)) for c in connections]
        start = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        seconds = time.perf_counter() - start
        for connection in connections:
            connection.close()
        if failures:
            raise failures[0]
        return seconds


def _send(connection: http.client.HTTPConnection, call: Call) -> None:
    connection.request(call.method, call.path, body=call.body or None, headers=call.headers)
    answer = connection.getresponse()
    answer.read()
    if answer.status != call.status:
        raise CapacityError(f"{call.method} {call.path}: {answer.status}, not {call.status}")
    if call.digest is not None and answer.getheader("Docker-Content-Digest") != call.digest:
        raise CapacityError(f"{call.method} {call.path}: not at {call.digest}")


def plan_work(
    images: dict[str, Image], tags: Sequence[str], source: str = "build-1"
) -> list[list[Call]]:
    """What a plan of ``tags`` in every repository needs: each repository listed, then each
    reference (the source and every tag) HEADed once."""
    listings = [[list_tags(repository)] for repository in images]
    heads = [
        [head(repository, reference, image.digest)]
        for repository, image in images.items()
        for reference in (source, *tags)
    ]
    return listings + heads


def apply_work(images: dict[str, Image], tags: Sequence[str]) -> list[list[Call]]:
    """What an apply of ``tags`` in every repository needs: each tag PUT, then HEADed to verify
    it; repositories interleaved, as tagmgr spreads its writes."""
    return [
        [
            put(repository, tag, image.media_type, image.manifest_bytes, image.digest),
            head(repository, tag, image.digest),
        ]
        for tag in tags
        for repository, image in images.items()
    ]
