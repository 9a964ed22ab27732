"""The auth flow, driven by feeding it responses: no server, no network."""

from __future__ import annotations

import base64
from collections.abc import Generator

import pytest

from tagmgr.errors import AuthenticationError, RegistryError
from tagmgr.registry.auth import Challenge, RegistryAuth, TokenCache, parse_challenges, scope_for
from tagmgr.registry.messages import Request, Response
from tagmgr.registry.options import Credentials
from tests.support.transport import Client, MockTransport

REGISTRY = "registry.example"
REALM = "https://auth.example/token"
BEARER = f'Bearer realm="{REALM}",service="registry.example"'
SOURCES = "/run/user/1000/containers/auth.json"
SECRET = "s3cr3t-pa55"
Flow = Generator[Request, Response, None]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def manifest_request(repository: str = "team/app") -> Request:
    return Request("GET", f"https://{REGISTRY}/v2/{repository}/manifests/v1")


def unauthorized(request: Request, challenge: str = BEARER) -> Response:
    return Response(401, headers={"WWW-Authenticate": challenge}, request=request)


def ok(request: Request) -> Response:
    return Response(200, request=request)


def token(request: Request, body: dict[str, object]) -> Response:
    return Response(200, json=body, request=request)


def finish(flow: Flow, response: Response) -> None:
    with pytest.raises(StopIteration):
        flow.send(response)


def make_auth(credentials: Credentials | None = None, clock: Clock | None = None) -> RegistryAuth:
    return RegistryAuth(
        REGISTRY, lambda _repository: credentials, SOURCES, TokenCache(clock or Clock())
    )


def basic_value(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def bearer_dance(auth: RegistryAuth, request: Request, body: dict[str, object]) -> Flow:
    """Run a flow through 401 -> token request -> resend; return it before the final answer."""
    flow = auth.auth_flow(request)
    first = next(flow)
    token_request = flow.send(unauthorized(first))
    resent = flow.send(token(token_request, body))
    assert resent.headers["Authorization"] == f"Bearer {body.get('token') or body['access_token']}"
    return flow


# --- WWW-Authenticate parsing -------------------------------------------------------------


def test_parse_bearer_with_quoted_commas_in_scope() -> None:
    header = (
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",'
        'scope="repository:library/alpine:pull,push"'
    )
    assert parse_challenges(header) == [
        Challenge(
            "bearer",
            {
                "realm": "https://auth.docker.io/token",
                "service": "registry.docker.io",
                "scope": "repository:library/alpine:pull,push",
            },
        )
    ]


def test_parse_several_challenges_spaces_unquoted_values_and_escapes() -> None:
    header = r'Basic realm="say \"hi\", please" , BEARER Realm=https://a/t, service = reg'
    assert parse_challenges(header) == [
        Challenge("basic", {"realm": 'say "hi", please'}),
        Challenge("bearer", {"realm": "https://a/t", "service": "reg"}),
    ]


def test_parse_scheme_without_parameters_and_empty_header() -> None:
    assert parse_challenges("Negotiate") == [Challenge("negotiate", {})]
    assert parse_challenges("") == []


@pytest.mark.parametrize(
    ("path", "scope"),
    [
        ("/v2/", ""),
        ("/v2/library/alpine/manifests/3.20", "repository:library/alpine:pull"),
        ("/v2/a/b/c/tags/list", "repository:a/b/c:pull"),
        ("/v2/app/blobs/sha256:abc", "repository:app:pull"),
    ],
)
def test_scope_comes_from_the_repository_in_the_path(path: str, scope: str) -> None:
    assert scope_for(Request("GET", f"https://{REGISTRY}{path}")) == scope


# --- the flow -----------------------------------------------------------------------------


def test_no_challenge_no_extra_requests() -> None:
    flow = make_auth().auth_flow(manifest_request())
    request = next(flow)
    assert "Authorization" not in request.headers
    finish(flow, ok(request))


def test_bearer_anonymous_asks_the_realm_for_service_and_scope() -> None:
    flow = make_auth().auth_flow(manifest_request())
    token_request = flow.send(unauthorized(next(flow)))
    assert token_request.method == "GET"
    assert str(token_request.url.without_query()) == REALM
    assert dict(token_request.url.params) == {
        "service": "registry.example",
        "scope": "repository:team/app:pull",
    }
    assert "Authorization" not in token_request.headers
    resent = flow.send(token(token_request, {"token": "anon-token"}))
    assert resent.headers["Authorization"] == "Bearer anon-token"
    finish(flow, ok(resent))


def test_bearer_sends_basic_credentials_to_the_realm_and_reads_access_token() -> None:
    auth = make_auth(Credentials("alice", SECRET))
    flow = auth.auth_flow(manifest_request())
    token_request = flow.send(unauthorized(next(flow)))
    assert token_request.headers["Authorization"] == basic_value("alice", SECRET)
    resent = flow.send(token(token_request, {"access_token": "oauth-token"}))
    assert resent.headers["Authorization"] == "Bearer oauth-token"


def test_cached_token_is_sent_up_front_for_the_same_scope_only() -> None:
    auth = make_auth()
    finish(bearer_dance(auth, manifest_request(), {"token": "t-app"}), ok(manifest_request()))

    again = auth.auth_flow(manifest_request())
    assert next(again).headers["Authorization"] == "Bearer t-app"
    finish(again, ok(manifest_request()))

    other = auth.auth_flow(manifest_request("team/other"))
    assert "Authorization" not in next(other).headers


def test_token_is_dropped_five_seconds_before_it_expires() -> None:
    clock = Clock()
    auth = make_auth(clock=clock)
    body: dict[str, object] = {"token": "short", "expires_in": 300}
    finish(bearer_dance(auth, manifest_request(), body), ok(manifest_request()))

    clock.now += 294
    assert next(auth.auth_flow(manifest_request())).headers["Authorization"] == "Bearer short"
    clock.now += 2
    assert "Authorization" not in next(auth.auth_flow(manifest_request())).headers


def test_token_lifetime_defaults_to_sixty_seconds() -> None:
    clock = Clock()
    auth = make_auth(clock=clock)
    finish(bearer_dance(auth, manifest_request(), {"token": "t"}), ok(manifest_request()))
    clock.now += 50
    assert next(auth.auth_flow(manifest_request())).headers["Authorization"] == "Bearer t"
    clock.now += 10
    assert "Authorization" not in next(auth.auth_flow(manifest_request())).headers


def test_cached_token_refused_is_replaced_once() -> None:
    auth = make_auth()
    finish(bearer_dance(auth, manifest_request(), {"token": "old"}), ok(manifest_request()))

    flow = auth.auth_flow(manifest_request())
    presented = next(flow)
    assert presented.headers["Authorization"] == "Bearer old"
    token_request = flow.send(unauthorized(presented))
    resent = flow.send(token(token_request, {"token": "new"}))
    assert resent.headers["Authorization"] == "Bearer new"
    finish(flow, ok(resent))


def test_second_401_with_credentials_names_the_user_never_the_secret() -> None:
    flow = bearer_dance(make_auth(Credentials("alice", SECRET)), manifest_request(), {"token": "t"})
    with pytest.raises(AuthenticationError) as caught:
        flow.send(unauthorized(manifest_request()))
    assert str(caught.value) == "registry registry.example: credentials for user alice were refused"
    assert SECRET not in repr(caught.value)


def test_refusals_name_where_the_credentials_came_from() -> None:
    alice = Credentials("alice", SECRET, "/ci/auth.json")
    flow = bearer_dance(make_auth(alice), manifest_request(), {"token": "t"})
    with pytest.raises(AuthenticationError) as caught:
        flow.send(unauthorized(manifest_request()))
    assert str(caught.value) == (
        "registry registry.example: credentials for user alice from /ci/auth.json were refused"
    )
    flow = make_auth(alice).auth_flow(manifest_request())
    token_request = flow.send(unauthorized(next(flow)))
    resent = flow.send(token(token_request, {"token": "t"}))
    scope_refused = 'Bearer realm="r",error="insufficient_scope"'
    with pytest.raises(AuthenticationError) as caught:
        flow.send(unauthorized(resent, scope_refused))
    assert str(caught.value) == (
        "registry registry.example: user alice from /ci/auth.json is not granted "
        "repository:team/app:pull by the token service"
    )


def test_each_request_gets_the_credentials_of_its_own_repository() -> None:
    """Per-repository keys (``host/team``) give different users for different repositories."""
    users = {"team/app": Credentials("team", SECRET), "": Credentials("host", "host-pass")}
    asked: list[str] = []

    def lookup(repository: str) -> Credentials | None:
        asked.append(repository)
        return users.get(repository, users[""])

    auth = RegistryAuth(REGISTRY, lookup, SOURCES, TokenCache(Clock()))
    for repository, expected in (("team/app", ("team", SECRET)), ("other", ("host", "host-pass"))):
        flow = auth.auth_flow(manifest_request(repository))
        token_request = flow.send(unauthorized(next(flow)))
        assert token_request.headers["Authorization"] == basic_value(*expected)
    assert asked == ["team/app", "other"]


def test_no_credentials_are_looked_up_until_a_challenge_asks() -> None:
    asked: list[str] = []

    def lookup(repository: str) -> Credentials | None:
        asked.append(repository)
        return None

    auth = RegistryAuth(REGISTRY, lookup, SOURCES)
    flow = auth.auth_flow(manifest_request())
    finish(flow, ok(next(flow)))
    assert asked == []


def test_second_401_without_credentials_says_where_none_were_found() -> None:
    flow = bearer_dance(make_auth(), manifest_request(), {"token": "anonymous"})
    with pytest.raises(AuthenticationError) as caught:
        flow.send(unauthorized(manifest_request()))
    assert str(caught.value) == (
        "registry registry.example: needs credentials; "
        "none found in /run/user/1000/containers/auth.json"
    )


def test_token_service_refusing_credentials_is_an_authentication_error() -> None:
    flow = make_auth(Credentials("alice", SECRET)).auth_flow(manifest_request())
    token_request = flow.send(unauthorized(next(flow)))
    with pytest.raises(AuthenticationError, match="credentials for user alice were refused"):
        flow.send(Response(401, request=token_request))


def test_token_service_without_a_token_is_a_registry_error() -> None:
    flow = make_auth().auth_flow(manifest_request())
    token_request = flow.send(unauthorized(next(flow)))
    with pytest.raises(RegistryError) as caught:
        flow.send(token(token_request, {"nothing": "here"}))
    assert str(caught.value) == (
        "registry registry.example: token service https://auth.example/token "
        "did not answer with a token"
    )


def test_basic_challenge_resends_with_credentials_then_sends_them_up_front() -> None:
    auth = make_auth(Credentials("bob", SECRET))
    flow = auth.auth_flow(manifest_request())
    resent = flow.send(unauthorized(next(flow), 'Basic realm="registry"'))
    assert resent.headers["Authorization"] == basic_value("bob", SECRET)
    finish(flow, ok(resent))
    assert next(auth.auth_flow(manifest_request())).headers["Authorization"] == basic_value(
        "bob", SECRET
    )


def test_basic_challenge_without_credentials_is_one_clear_line() -> None:
    flow = make_auth().auth_flow(manifest_request())
    with pytest.raises(AuthenticationError) as caught:
        flow.send(unauthorized(next(flow), 'Basic realm="registry"'))
    assert str(caught.value) == (
        "registry registry.example: needs credentials; "
        "none found in /run/user/1000/containers/auth.json"
    )


def test_bearer_is_preferred_to_basic_and_unknown_schemes_are_left_alone() -> None:
    flow = make_auth().auth_flow(manifest_request())
    token_request = flow.send(unauthorized(next(flow), f'Basic realm="r", {BEARER}'))
    assert token_request.url.host == "auth.example"

    unknown = make_auth().auth_flow(manifest_request())
    finish(unknown, unauthorized(next(unknown), 'Negotiate realm="x"'))


def test_cache_keys_include_realm_and_service() -> None:
    clock = Clock()
    cache = TokenCache(clock)
    cache.put(("realm-a", "svc", "repository:x:pull"), "a", 300)
    assert cache.get(("realm-a", "svc", "repository:x:pull")) == "a"
    assert cache.get(("realm-b", "svc", "repository:x:pull")) is None
    assert cache.get(("realm-a", "other", "repository:x:pull")) is None
    cache.discard(("realm-a", "svc", "repository:x:pull"))
    assert cache.get(("realm-a", "svc", "repository:x:pull")) is None


def test_flow_through_a_client_fetches_one_token_per_scope() -> None:
    """The same flow inside an Client: two manifests of one repository, one token."""
    token_requests: list[Request] = []

    def registry(request: Request) -> Response:
        if request.url.host == "auth.example":
            token_requests.append(request)
            return Response(200, json={"token": "tok", "expires_in": 300})
        if request.headers.get("Authorization") != "Bearer tok":
            return Response(401, headers={"WWW-Authenticate": BEARER})
        return Response(200, json={})

    with Client(MockTransport(registry), auth=make_auth()) as client:
        for tag in ("v1", "v2"):
            assert client.get(f"https://{REGISTRY}/v2/team/app/manifests/{tag}").status_code == 200
    assert len(token_requests) == 1
