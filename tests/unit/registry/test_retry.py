"""The retry table and transport: scripted answers, a recorded sleep and a clock it moves, no
real waiting; jitter is off (``chance`` 0) unless a test is about it."""

from __future__ import annotations

import ssl
from collections.abc import Iterable
from contextlib import suppress

import pytest

from tagmgr.errors import RegistryError
from tagmgr.registry.messages import (
    ConnectError,
    ConnectTimeout,
    LocalProtocolError,
    ReadTimeout,
    Request,
    Response,
    TimeoutException,
    TransportError,
)
from tagmgr.registry.policy import RetryPolicy
from tagmgr.registry.reachability import Reachability
from tagmgr.registry.retry import (
    NOT_SENT_AGAIN,
    PROBE,
    RETRY_SAFE,
    Decision,
    RetryTransport,
    decide,
)
from tests.support.transport import Client, MockTransport

URL = "https://registry.example/v2/app/manifests/v1"
Answer = int | tuple[int, dict[str, str | bytes]] | TransportError


class Clock:
    """Time that passes only when slept, or when a scripted attempt waits out its timeout."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


class Script:
    """A transport answering from a list: a status, (status, headers), or an error to raise.

    Header values given as bytes are sent as they are, as a registry would on the wire. With a
    ``clock``, a timeout answer first waits out the attempt's timeout on it; ``timeouts`` keeps
    each attempt's."""

    def __init__(self, answers: Iterable[Answer], clock: Clock | None = None) -> None:
        self.answers = list(answers)
        self.calls = 0
        self.clock = clock
        self.timeouts: list[float] = []

    def __call__(self, request: Request) -> Response:
        answer = self.answers[self.calls]
        self.calls += 1
        self.timeouts.append(request.timeout or 0.0)
        if isinstance(answer, TimeoutException) and self.clock is not None:
            self.clock.now += self.timeouts[-1]
        if isinstance(answer, TransportError):
            raise answer
        status, headers = answer if isinstance(answer, tuple) else (answer, {})
        return Response(status, headers=headers)


def send(
    answers: Iterable[Answer],
    method: str = "GET",
    policy: RetryPolicy | None = None,
    *,
    probe: bool = False,
    safe: object = None,
    chance: float = 0.0,
) -> tuple[Response, Script, list[float]]:
    script, slept = Script(answers), list[float]()
    transport = RetryTransport(
        MockTransport(script), policy, sleep=slept.append, chance=lambda: chance
    )
    extensions: dict[str, object] = {PROBE: probe}
    if safe is not None:
        extensions[RETRY_SAFE] = safe
    with Client(transport) as client:
        response = client.request(method, URL, extensions=extensions)
    return response, script, slept


def refused() -> ConnectError:
    return ConnectError("[Errno 111] Connection refused")


def refused_by_the_kernel() -> ConnectError:
    """As httpx raises it: the ConnectionRefusedError is in the chain of causes."""
    error = refused()
    error.__cause__ = ConnectionRefusedError(111, "Connection refused")
    return error


@pytest.mark.parametrize(
    ("status", "decision"),
    [
        (200, Decision.DONE),
        (307, Decision.DONE),
        (401, Decision.REAUTHENTICATE),
        (403, Decision.GIVE_UP),
        (404, Decision.GIVE_UP),
        (429, Decision.BACK_OFF),
        (500, Decision.BACK_OFF),
        (501, Decision.GIVE_UP),
        (502, Decision.BACK_OFF),
        (503, Decision.BACK_OFF),
        (504, Decision.BACK_OFF),
    ],
)
def test_status_table(status: int, decision: Decision) -> None:
    assert decide(status) is decision


def test_backs_off_exponentially_until_success() -> None:
    response, script, slept = send([503, 500, 504, 200])
    assert response.status_code == 200
    assert script.calls == 4
    assert slept == [0.5, 1.0, 2.0]


def test_a_500_on_a_tag_list_page_is_retried_like_a_502() -> None:
    """docker-registry answers 500 for transient storage races under concurrent writes."""
    response, script, _ = send([500, 500, 200], method="GET")
    assert (response.status_code, script.calls) == (200, 3)


def test_jitter_takes_off_up_to_half_of_each_exponential_delay() -> None:
    _, _, slept = send([503, 503, 503, 200], chance=0.999)
    assert slept == pytest.approx([0.25, 0.5, 1.0], abs=0.002)
    assert slept[0] < 0.5
    _, _, told = send([(429, {"Retry-After": "3"}), 200], chance=0.999)
    assert told == [3.0]  # what the registry asked for is not cut short


def test_retry_after_seconds_are_honoured_and_capped() -> None:
    response, _, slept = send([(429, {"Retry-After": "3"}), (429, {"Retry-After": "120"}), 200])
    assert response.status_code == 200
    assert slept == [3.0, 10.0]


def test_retry_after_as_a_date_falls_back_to_exponential() -> None:
    _, _, slept = send([(503, {"Retry-After": "Wed, 21 Oct 2026 07:28:00 GMT"}), 200])
    assert slept == [0.5]


@pytest.mark.parametrize("retry_after", ["²", "٣", "1.5", "-1", "", "1e3"])
def test_retry_after_that_is_not_ascii_seconds_falls_back_to_exponential(retry_after: str) -> None:
    """``"²".isdigit()`` is True, yet ``float("²")`` raises: digits are ASCII digits only."""
    _, _, slept = send([(503, {"Retry-After": retry_after.encode()}), 200])
    assert slept == [0.5]


def test_attempts_are_bounded_and_the_last_answer_is_handed_up() -> None:
    response, script, slept = send([503, 503, 503, 503, 200])
    assert response.status_code == 503
    assert script.calls == 4
    assert len(slept) == 3


def through(
    script: Script, clock: Clock, policy: RetryPolicy, reachability: Reachability | None = None
) -> Client:
    transport = RetryTransport(
        MockTransport(script),
        policy,
        sleep=clock.sleep,
        reachability=reachability,
        chance=lambda: 0.0,
        clock=clock,
    )
    return Client(transport)


def test_a_request_takes_no_longer_than_its_timeout_waits_included() -> None:
    clock = Clock()
    policy = RetryPolicy(attempts=10, request_timeout=15.0)
    answers: list[Answer] = [(429, {"Retry-After": "10"}), (429, {"Retry-After": "10"}), 200]
    script = Script(answers, clock)
    with through(script, clock, policy) as client:
        assert client.get(URL).status_code == 429
    assert (script.calls, clock.slept, script.timeouts) == (2, [10.0], [15.0, 5.0])


def test_an_attempt_waits_only_as_long_as_its_request_has_left() -> None:
    """Refused at once, 0.5 s waited, then the 9.5 s left, waited out: no third attempt."""
    clock = Clock()
    script = Script([refused(), ReadTimeout("slow"), 200], clock)
    with (
        through(script, clock, RetryPolicy(request_timeout=10.0)) as client,
        pytest.raises(ReadTimeout),
    ):
        client.get(URL)
    assert (script.calls, script.timeouts, clock.slept, clock.now) == (2, [10.0, 9.5], [0.5], 10.0)


def test_a_write_that_failed_and_was_not_sent_again_is_marked() -> None:
    """The client makes a TransientWriteError of it: its owner may run the whole job again."""
    for answer in (503, refused()):
        script, clock = Script([answer, 200]), Clock()
        extensions: dict[str, object] = {}
        with through(script, clock, RetryPolicy()) as client, suppress(ConnectError):
            client.request("PATCH", URL, extensions=extensions)
        assert (script.calls, extensions.get(NOT_SENT_AGAIN)) == (1, True)
    for method, answer in (("PATCH", 400), ("GET", 503)):
        script, clock = Script([answer] * 4), Clock()
        extensions = {}
        with through(script, clock, RetryPolicy()) as client:
            client.request(method, URL, extensions=extensions)
        assert NOT_SENT_AGAIN not in extensions


@pytest.mark.parametrize("status", [400, 401, 403, 404, 501])
def test_other_statuses_are_handed_up_at_once(status: int) -> None:
    response, script, slept = send([status, 200])
    assert response.status_code == status
    assert script.calls == 1
    assert slept == []


def test_connection_errors_on_idempotent_requests_are_retried() -> None:
    response, script, slept = send([refused(), ReadTimeout("slow"), 200], method="HEAD")
    assert response.status_code == 200
    assert script.calls == 3
    assert slept == [0.5, 1.0]


def test_connection_error_after_the_last_attempt_is_raised() -> None:
    with pytest.raises(ConnectError, match="Connection refused"):
        send([refused()] * 4)


def test_writes_are_sent_once_unless_declared_safe() -> None:
    response, script, _ = send([503, 200], method="POST")
    assert response.status_code == 503
    assert script.calls == 1
    with pytest.raises(ConnectError):
        send([refused(), 200], method="PUT")
    for explicitly_unsafe in (False, lambda: False):
        response, script, _ = send([500, 200], method="PUT", safe=explicitly_unsafe)
        assert (response.status_code, script.calls) == (500, 1)


def test_a_write_declared_safe_is_retried_while_its_check_says_so() -> None:
    response, script, _ = send([500, refused(), 201], method="PUT", safe=True)
    assert (response.status_code, script.calls) == (201, 3)
    checks = iter([True, False])
    response, script, _ = send([503, 503, 201], method="PUT", safe=lambda: next(checks))
    assert (response.status_code, script.calls) == (503, 2)


def test_a_write_is_checked_after_the_wait_just_before_it_is_sent_again() -> None:
    """A rival may write the tag while the retry waits (up to a Retry-After of 10 s): a check made
    before the wait would let the write overwrite it."""
    events: list[str] = []
    script = Script([(503, {"Retry-After": "3"}), 201])
    transport = RetryTransport(MockTransport(script), sleep=lambda s: events.append(f"wait {s}"))

    def still_safe() -> bool:
        events.append("check")
        return False  # the rival wrote the tag during the wait

    with Client(transport) as client:
        response = client.request("PUT", URL, extensions={RETRY_SAFE: still_safe})
    assert (response.status_code, script.calls) == (503, 1)
    assert events == ["wait 3.0", "check"]


def test_tls_handshake_failures_are_not_retried() -> None:
    error = ConnectError("certificate verify failed")
    error.__cause__ = ssl.SSLCertVerificationError("certificate verify failed")
    script = Script([error, 200])
    transport = RetryTransport(MockTransport(script), sleep=lambda _: None)
    with Client(transport) as client, pytest.raises(ConnectError):
        client.get(URL)
    assert script.calls == 1


@pytest.mark.parametrize("method", ["GET", "PATCH"])
def test_a_request_that_cannot_be_sent_is_not_tried_again(method: str) -> None:
    """A redirect to ``ftp://`` or a field with a line break fails the same way every time: it
    is raised at once, and a write is not marked as one another try may mend."""
    script = Script([LocalProtocolError("not an http or https URL: ftp://elsewhere/x"), 200])
    extensions: dict[str, object] = {RETRY_SAFE: True}
    transport = RetryTransport(MockTransport(script), sleep=lambda _: None)
    with Client(transport) as client, pytest.raises(LocalProtocolError):
        client.request(method, URL, extensions=extensions)
    assert script.calls == 1
    assert NOT_SENT_AGAIN not in extensions


def test_a_refused_probe_is_handed_up_at_once() -> None:
    with pytest.raises(ConnectError, match="Connection refused"):
        send([refused_by_the_kernel(), 200], probe=True)


@pytest.mark.parametrize("first", [ConnectTimeout("slow"), 503], ids=["timeout", "503"])
def test_a_probe_is_retried_on_anything_but_a_refusal(first: Answer) -> None:
    response, script, _ = send([first, 200], probe=True)
    assert (response.status_code, script.calls) == (200, 2)


def test_a_refused_request_that_is_no_probe_is_retried() -> None:
    response, script, _ = send([refused_by_the_kernel(), 200])
    assert (response.status_code, script.calls) == (200, 2)


def reachable(answers: Iterable[Answer], reachability: Reachability, probe: bool = False) -> Script:
    """Send one GET through a transport sharing ``reachability``; the script it answered from."""
    script = Script(answers)
    transport = RetryTransport(
        MockTransport(script), sleep=lambda _: None, reachability=reachability
    )
    with Client(transport) as client, suppress(TransportError, RegistryError):
        client.get(URL, extensions={PROBE: probe})
    return script


def reachability_of(clock: Clock | None = None, policy: RetryPolicy | None = None) -> Reachability:
    policy = policy or RetryPolicy()
    return Reachability(
        "registry.example",
        down_after=policy.down_after,
        registry_timeout=policy.registry_timeout,
        request_timeout=policy.request_timeout,
        clock=clock or Clock(),
    )


def test_a_registry_failing_its_connections_in_a_row_is_down_for_the_rest_of_the_run() -> None:
    reachability = reachability_of()
    assert reachable([refused(), refused(), refused(), 200], reachability).calls == 4  # reset
    assert reachable([refused_by_the_kernel()], reachability, probe=True).calls == 1  # no count
    assert reachable([refused()] * 4 + [200], reachability).calls == 4  # four in a row: down
    down = (
        "registry registry.example: down: 4 connection attempts in a row failed (the last: "
        "cannot connect to https://registry.example/v2/app/manifests/v1: [Errno 111] Connection "
        "refused); nothing more is sent to it in this run"
    )
    for _ in range(3):
        script = Script([200])
        transport = RetryTransport(MockTransport(script), reachability=reachability)
        with Client(transport) as client, pytest.raises(RegistryError) as caught:
            client.get(URL)
        assert (str(caught.value), script.calls) == (down, 0)


def test_a_registry_that_answers_nothing_is_down_once_its_time_is_up() -> None:
    """No request waits past what the registry has left: 10 s, 10 s, then the 5 s left of 25."""
    clock = Clock()
    policy = RetryPolicy(request_timeout=10.0, registry_timeout=25.0, down_after=99)
    reachability = reachability_of(clock, policy)
    waited = []
    for _ in range(2):
        script = Script([ReadTimeout("silence")] * 4, clock)
        with (
            through(script, clock, policy, reachability) as client,
            pytest.raises(ReadTimeout),
        ):
            client.get(URL)
        waited += script.timeouts
    script = Script([ReadTimeout("silence")] * 4, clock)
    with (
        through(script, clock, policy, reachability) as client,
        pytest.raises(RegistryError) as caught,
    ):
        client.get(URL)
    assert (waited, script.timeouts, clock.now) == ([10.0, 10.0], [5.0], 25.0)
    assert str(caught.value) == (
        "registry registry.example: down: nothing answered within 25 s (--registry-timeout; the "
        "last request: GET https://registry.example/v2/app/manifests/v1); nothing more is sent "
        "to it in this run"
    )
    untouched = Script([200], clock)
    with through(untouched, clock, policy, reachability) as client, pytest.raises(RegistryError):
        client.get(URL)
    assert untouched.calls == 0


def test_any_answer_restarts_the_registry_s_time() -> None:
    clock = Clock()
    policy = RetryPolicy(request_timeout=10.0, registry_timeout=25.0, down_after=99)
    reachability = reachability_of(clock, policy)
    for answers in ([ReadTimeout("silence")], [404], [ReadTimeout("silence")]):
        script = Script(answers, clock)
        with through(script, clock, policy, reachability) as client, suppress(ReadTimeout):
            client.get(URL)
        assert script.timeouts == [10.0]
    assert reachability.left() == 15.0


def test_an_attempt_refused_below_leaves_nothing_waiting() -> None:
    """An answer the bounding transport refuses (too large, say) is no silence of the registry."""
    clock = Clock()
    reachability = reachability_of(clock)

    def too_large(request: Request) -> Response:
        raise RegistryError("registry.example", "answer larger than 4194304 bytes")

    transport = RetryTransport(
        MockTransport(too_large), sleep=clock.sleep, reachability=reachability, clock=clock
    )
    with Client(transport) as client, pytest.raises(RegistryError):
        client.get(URL)
    clock.now += 1000.0
    assert reachability.left() == RetryPolicy().registry_timeout
