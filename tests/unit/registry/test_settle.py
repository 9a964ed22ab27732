"""Settling how to reach a registry: a refused HTTPS probe moves on at once, and a failure to
settle is remembered, so an unreachable registry costs one settlement, not one per repository.

Sleeps are recorded, never slept: each test's time is bounded by its requests, not its backoff.
Jitter is off (``NO_JITTER``), so the recorded delays are the policy's own.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest

from tagmgr.errors import RegistryError
from tagmgr.registry import RegistryClient, RegistryOptions
from tagmgr.registry.messages import ConnectTimeout, Request, Response
from tagmgr.registry.policy import RetryPolicy
from tests.support.scripted import (
    failing,
    no_credentials_from_this_machine,  # noqa: F401 (autouse: no auth file of this machine is read)
)
from tests.support.transport import MockTransport

LOOPBACK = "127.0.0.1:5000"
REFUSED_MESSAGE = (
    f"registry {LOOPBACK}: cannot connect to https://{LOOPBACK}/v2/: connection refused"
)
Handler = Callable[[Request], Response]
NO_JITTER = RetryPolicy(jitter=0.0)


class Recorder:
    """A scripted registry: ``answer`` per request, every request's scheme and path kept."""

    def __init__(self, answer: Handler) -> None:
        self.answer = answer
        self.seen: list[str] = []
        self.lock = threading.Lock()

    def __call__(self, request: Request) -> Response:
        with self.lock:
            self.seen.append(f"{request.url.scheme} {request.url.path}")
        return self.answer(request)


def refuse(request: Request) -> Response:
    raise failing(ConnectionRefusedError(111, "Connection refused"))


def refuse_https(request: Request) -> Response:
    if request.url.scheme == "https":
        return refuse(request)
    return Response(200, json={"tags": ["v1"]})


def client_for(registry: Recorder, address: str = LOOPBACK) -> tuple[RegistryClient, list[float]]:
    slept: list[float] = []
    transport = MockTransport(registry)
    return RegistryClient(
        address, RegistryOptions(retry=NO_JITTER), transport=transport, sleep=slept.append
    ), slept


# --- the scheme of a loopback registry ----------------------------------------------------


def test_a_refused_https_probe_goes_to_http_at_once() -> None:
    registry = Recorder(refuse_https)
    client, slept = client_for(registry)
    assert client.list_tags("app") == ["v1"]
    assert registry.seen == ["https /v2/", "http /v2/", "http /v2/app/tags/list"]
    assert slept == []
    assert client.connection().tls_verify is False


def test_the_last_endpoint_is_still_retried_when_refused() -> None:
    registry = Recorder(refuse)
    client, slept = client_for(registry)
    with pytest.raises(RegistryError) as caught:
        client.connection()
    assert str(caught.value) == REFUSED_MESSAGE
    assert registry.seen == ["https /v2/"] + ["http /v2/"] * 4
    assert slept == [0.5, 1.0, 2.0]


def test_a_remote_registry_has_nowhere_else_to_go_so_its_probe_is_retried() -> None:
    registry = Recorder(refuse)
    client, slept = client_for(registry, "registry.example")
    with pytest.raises(RegistryError, match="connection refused"):
        client.connection()
    assert registry.seen == ["https /v2/"] * 4
    assert slept == [0.5, 1.0, 2.0]


def test_an_https_probe_that_times_out_is_retried_before_http() -> None:
    """Only a refusal says for sure that nothing listens there."""

    def slow_https(request: Request) -> Response:
        if request.url.scheme == "https":
            raise ConnectTimeout("timed out")
        return Response(200)

    registry = Recorder(slow_https)
    client, slept = client_for(registry)
    assert client.connection().tls_verify is False
    assert registry.seen == ["https /v2/"] * 4 + ["http /v2/"]
    assert slept == [0.5, 1.0, 2.0]


# --- a failure to settle is remembered ----------------------------------------------------


def test_a_failure_to_settle_is_remembered_by_the_client() -> None:
    registry = Recorder(refuse)
    client, slept = client_for(registry)
    calls: list[Callable[[], object]] = [
        lambda: client.list_tags("a"),
        lambda: client.list_tags("b"),
        lambda: client.head_manifest("c", "v1"),
        lambda: client.get_manifest("d", "v1"),
        client.connection,
    ]
    for call in calls:
        with pytest.raises(RegistryError) as caught:
            call()
        assert str(caught.value) == REFUSED_MESSAGE
    assert len(registry.seen) == 5
    assert len(slept) == 3


def test_threads_wait_for_one_settlement_and_share_its_failure() -> None:
    registry = Recorder(refuse)
    client, _ = client_for(registry)

    def attempt(repository: str) -> str:
        try:
            client.list_tags(repository)
        except RegistryError as error:
            return str(error)
        return "listed"

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(attempt, [f"repo{i}" for i in range(16)]))
    assert outcomes == [REFUSED_MESSAGE] * 16
    assert len(registry.seen) == 5


def test_threads_share_one_settlement() -> None:
    registry = Recorder(refuse_https)
    client, _ = client_for(registry)
    with ThreadPoolExecutor(max_workers=8) as pool:
        listings = list(pool.map(client.list_tags, [f"repo{i}" for i in range(16)]))
    assert listings == [["v1"]] * 16
    assert registry.seen.count("http /v2/") == 1


def test_close_forgets_the_failure() -> None:
    registry = Recorder(refuse)
    client, _ = client_for(registry)
    with pytest.raises(RegistryError):
        client.connection()
    client.close()
    registry.answer = refuse_https
    assert client.list_tags("app") == ["v1"]


# --- on a real socket ---------------------------------------------------------------------


def test_a_refused_loopback_port_costs_one_settlement() -> None:
    """Real sockets, so the refusal is the kernel's; three repositories, one round of retries."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        address = f"127.0.0.1:{probe.getsockname()[1]}"
    slept: list[float] = []
    client = RegistryClient(address, RegistryOptions(retry=NO_JITTER), sleep=slept.append)
    for repository in ("a", "b", "c"):
        with pytest.raises(RegistryError) as caught:
            client.list_tags(repository)
        assert str(caught.value) == (
            f"registry {address}: cannot connect to https://{address}/v2/: connection refused"
        )
    assert slept == [0.5, 1.0, 2.0]
