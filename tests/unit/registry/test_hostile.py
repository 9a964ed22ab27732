"""A registry that answers to harm: endless pages, forged digests, huge bodies, clear-text realms,
JSON nested past the recursion limit.

Every test is bounded: the scripted registry (``MockTransport``, or one plain-HTTP server on
127.0.0.1) stops misbehaving after a fixed number of requests or bytes, so a client without the
guard ends too, and the test fails.
"""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar, cast

import pytest

from tagmgr.errors import AuthenticationError, RegistryError
from tagmgr.oci.descriptor import Descriptor
from tagmgr.oci.mediatypes import OCI_MANIFEST
from tagmgr.registry import RegistryClient, RegistryOptions
from tagmgr.registry.client import MAX_TAG_PAGES, MAX_TAGS
from tagmgr.registry.limits import MAX_ANSWER
from tagmgr.registry.messages import Request, Response
from tagmgr.registry.policy import RetryPolicy
from tests.support.rawhttp import raw_server
from tests.support.scripted import (
    DIGEST,
    MANIFEST,
    client_for,
    manifest_response,
    no_credentials_from_this_machine,  # noqa: F401 (autouse: no auth file of this machine is read)
    write_authfile,
)
from tests.unit.registry.test_auth import SECRET, basic_value

MiB = 1024 * 1024

# --- tag lists ----------------------------------------------------------------------------


class EndlessPages:
    """Tag list pages that never repeat, each linking to the next, for ``pages`` pages."""

    def __init__(self, tags_per_page: int, pages: int) -> None:
        self.tags_per_page, self.pages, self.served = tags_per_page, pages, 0

    def __call__(self, request: Request) -> Response:
        if request.url.path == "/v2/":
            return Response(200)
        self.served += 1
        tags = [f"p{self.served}-{i}" for i in range(self.tags_per_page)]
        headers = {}
        if self.served < self.pages:
            headers["Link"] = f'</v2/app/tags/list?last={tags[-1]}>; rel="next"'
        return Response(200, json={"name": "app", "tags": tags}, headers=headers)


def test_tag_list_pages_are_capped() -> None:
    registry = EndlessPages(tags_per_page=1, pages=MAX_TAG_PAGES + 500)
    with pytest.raises(RegistryError) as caught:
        client_for(registry).list_tags("app")
    assert str(caught.value) == (
        "registry registry.example: tag list of app runs past 1000 pages; stopped there"
    )
    assert registry.served == MAX_TAG_PAGES


def test_tag_list_of_exactly_the_page_cap_is_whole() -> None:
    registry = EndlessPages(tags_per_page=1, pages=MAX_TAG_PAGES)
    assert len(client_for(registry).list_tags("app")) == MAX_TAG_PAGES


def test_tags_are_capped_across_pages() -> None:
    registry = EndlessPages(tags_per_page=10_000, pages=20)
    with pytest.raises(RegistryError) as caught:
        client_for(registry).list_tags("app")
    assert str(caught.value) == (
        "registry registry.example: tag list of app holds more than 100000 tags; stopped there"
    )
    assert registry.served == MAX_TAGS // 10_000 + 1


@pytest.mark.parametrize(
    ("link", "refused"),
    [
        ("<https://elsewhere.example/v2/app/tags/list?last=a>", "refusing to send a request to"),
        ("<https://registry.example:444/v2/app/tags/list?last=a>", "refusing to send a request"),
        ("</v2/app/tags/list?last=\x01>", "tag list link"),
        ("<http://registry.example/v2/app/tags/list?last=a>", "its token or credentials would"),
    ],
)
def test_tag_list_pages_stay_on_the_registry(link: str, refused: str) -> None:
    """A next page elsewhere would carry the registry's token there: it is not followed."""
    asked: list[str] = []

    def registry(request: Request) -> Response:
        asked.append(str(request.url))
        if request.url.path == "/v2/":
            return Response(200)
        headers = {"Link": f'{link}; rel="next"'}
        return Response(200, json={"name": "app", "tags": ["a"]}, headers=headers)

    with pytest.raises(RegistryError, match=refused):
        client_for(registry).list_tags("app")
    assert all(url.startswith("https://registry.example/") for url in asked)


# --- manifest headers ---------------------------------------------------------------------

FORGED_DIGESTS = [
    "sha256:../../../etc",
    "sha256:" + "A" * 64,
    "sha256:" + "0" * 63,
    "md5:" + "0" * 32,
    f"{DIGEST} --src-creds=x",
]


@pytest.mark.parametrize("forged", FORGED_DIGESTS)
def test_head_with_a_forged_digest_header_reads_and_hashes_the_manifest(forged: str) -> None:
    """The digest from HEAD reaches skopeo's argv: only a well-formed one may be passed on."""
    methods: list[str] = []

    def handler(request: Request) -> Response:
        methods.append(request.method)
        return manifest_response(request, digest=forged)

    assert client_for(handler).head_manifest("app", "v1") == Descriptor(
        OCI_MANIFEST, DIGEST, len(MANIFEST)
    )
    assert methods[-2:] == ["HEAD", "GET"]


@pytest.mark.parametrize("length", ["²", "-1", "1e3", "0x10"])
def test_head_with_a_length_that_is_not_ascii_digits_reads_the_manifest(length: str) -> None:
    def handler(request: Request) -> Response:
        if request.method == "GET":
            return manifest_response(request)
        headers: dict[str, str | bytes] = {
            "Docker-Content-Digest": DIGEST,
            "Content-Length": length.encode(),
        }
        return Response(200, headers=headers)

    assert client_for(handler).head_manifest("app", "v1") == Descriptor(
        OCI_MANIFEST, DIGEST, len(MANIFEST)
    )


@pytest.mark.parametrize("forged", FORGED_DIGESTS)
@pytest.mark.parametrize("reference", ["v1", DIGEST])
def test_get_with_a_forged_digest_header_gives_the_digest_of_the_bytes(
    forged: str, reference: str
) -> None:
    client = client_for(lambda request: manifest_response(request, digest=forged))
    assert client.get_manifest("app", reference) == (
        Descriptor(OCI_MANIFEST, DIGEST, len(MANIFEST)),
        MANIFEST,
    )


# --- sizes --------------------------------------------------------------------------------


class Flood:
    """A body of ``total`` bytes in 1 MiB chunks, without a Content-Length; counts what was read."""

    def __init__(self, total: int = 64 * MiB) -> None:
        self.total, self.sent = total, 0

    def __iter__(self) -> Iterator[bytes]:
        while self.sent < self.total:
            self.sent += MiB
            yield b" " * MiB

    def close(self) -> None:
        pass


def test_manifest_larger_than_4_mib_is_refused_from_its_length() -> None:
    def handler(request: Request) -> Response:
        if request.url.path == "/v2/":
            return Response(200)
        return Response(200, content=b" " * (MAX_ANSWER + 1))

    with pytest.raises(RegistryError) as caught:
        client_for(handler).get_manifest("app", "v1")
    assert str(caught.value) == (
        "registry registry.example: GET https://registry.example/v2/app/manifests/v1: "
        "answer larger than 4194304 bytes"
    )


def test_manifest_of_exactly_4_mib_is_read() -> None:
    body = b" " * MAX_ANSWER
    client = client_for(lambda request: Response(200, content=body))
    descriptor, content = client.get_manifest("app", "v1")
    assert (descriptor.size, content) == (MAX_ANSWER, body)


def test_head_of_a_large_manifest_is_no_body_to_refuse() -> None:
    def handler(request: Request) -> Response:
        if request.url.path == "/v2/":
            return Response(200)
        headers = {"Docker-Content-Digest": DIGEST, "Content-Length": str(5 * MiB)}
        return Response(200, headers=headers)

    assert client_for(handler).head_manifest("app", "v1") == Descriptor("", DIGEST, 5 * MiB)


@pytest.mark.parametrize(
    ("call", "path"),
    [
        (lambda client: client.get_manifest("app", "v1"), "/v2/app/manifests/v1"),
        (lambda client: client.list_tags("app"), "/v2/app/tags/list"),
    ],
    ids=["manifest", "tags"],
)
def test_endless_body_is_cut_off_after_4_mib(
    call: Callable[[RegistryClient], object], path: str
) -> None:
    flood = Flood()

    def handler(request: Request) -> Response:
        if request.url.path == "/v2/":
            return Response(200)
        return Response(200, stream=flood)

    with pytest.raises(RegistryError) as caught:
        call(client_for(handler))
    assert str(caught.value) == (
        f"registry registry.example: GET https://registry.example{path}: "
        "answer larger than 4194304 bytes"
    )
    assert flood.sent == 5 * MiB


class FloodingHandler(BaseHTTPRequestHandler):
    """Plain HTTP: ``/v2/`` answers 200; any other GET sends a chunked body of 64 MiB."""

    protocol_version = "HTTP/1.1"
    sent: ClassVar[list[int]] = []

    def handle(self) -> None:
        """Hang up on a TLS ClientHello (it may hold no newline to end a request line)."""
        if cast(io.BufferedReader, self.rfile).peek(1)[:1] != b"\x16":  # makefile("rb")
            super().handle()

    def do_GET(self) -> None:
        if self.path == "/v2/":
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        chunk = b"%x\r\n%s\r\n" % (MiB, b" " * MiB)
        try:
            for _ in range(64):
                self.wfile.write(chunk)
                self.sent.append(MiB)
            self.wfile.write(b"0\r\n\r\n")
        except OSError:  # the client hung up: what the test wants
            self.close_connection = True

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


def test_endless_body_from_a_real_socket_is_cut_off() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), FloodingHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    address = f"127.0.0.1:{server.server_address[1]}"
    client = RegistryClient(
        address, RegistryOptions(retry=RetryPolicy(request_timeout=5.0)), sleep=lambda _: None
    )
    try:
        with pytest.raises(RegistryError) as caught:
            client.get_manifest("app", "v1")
    finally:
        client.close()
        server.shutdown()
        server.server_close()
    assert str(caught.value) == (
        f"registry {address}: GET http://{address}/v2/app/manifests/v1: "
        "answer larger than 4194304 bytes"
    )
    assert sum(FloodingHandler.sent) < 64 * MiB


def test_endless_token_answer_is_cut_off() -> None:
    flood = Flood()

    def handler(request: Request) -> Response:
        if request.url.host == "auth.example":
            return Response(200, stream=flood)
        challenge = 'Bearer realm="https://auth.example/token",service="registry.example"'
        return Response(401, headers={"WWW-Authenticate": challenge})

    with pytest.raises(RegistryError) as caught:
        client_for(handler).list_tags("app")
    assert str(caught.value) == (
        "registry registry.example: GET https://auth.example/token: "
        "answer larger than 4194304 bytes"
    )
    assert flood.sent == 5 * MiB


def test_endless_401_body_is_cut_off(tmp_path: Path) -> None:
    """httpx reads a 401's body before the flow sends again with credentials: bounded too."""
    flood = Flood()
    authfile = write_authfile(tmp_path / "auth.json", "registry.example", "alice", SECRET)

    def handler(request: Request) -> Response:
        if request.url.path == "/v2/":
            return Response(200)
        return Response(401, headers={"WWW-Authenticate": 'Basic realm="r"'}, stream=flood)

    with pytest.raises(RegistryError) as caught:
        client_for(handler, authfile=authfile).get_manifest("app", "v1")
    assert str(caught.value) == (
        "registry registry.example: GET https://registry.example/v2/app/manifests/v1: "
        "answer larger than 4194304 bytes"
    )
    assert flood.sent == 5 * MiB


def test_an_upload_location_on_another_host_gets_no_credentials(tmp_path: Path) -> None:
    """Only redirects used to drop them off the registry's host; a Location is no redirect."""
    authfile = write_authfile(tmp_path / "auth.json", "registry.example", "alice", SECRET)
    sent: dict[str, str | None] = {}

    def handler(request: Request) -> Response:
        sent[f"{request.method} {request.url.host}"] = request.headers.get("Authorization")
        if request.url.host != "registry.example":
            return Response(201)
        if "Authorization" not in request.headers:
            return Response(401, headers={"WWW-Authenticate": 'Basic realm="r"'})
        location = "https://uploads.example/session/1?state=s"
        return Response(202, headers={"Location": location, "Content-Length": "0"})

    client_for(handler, authfile=authfile).upload_blob("app", DIGEST, [b"blob"])
    assert sent == {
        "GET registry.example": None,  # the ping, which needs none
        "POST registry.example": basic_value("alice", SECRET),
        "PUT uploads.example": None,
    }


def test_an_upload_location_in_plain_http_on_the_registrys_host_is_refused(
    tmp_path: Path,
) -> None:
    """A registry spoken to over HTTPS behind a TLS-terminating proxy may name http:// URLs of
    its own host (port 80 is http's default, as 443 is the registry's): the credentials would
    travel in clear, so the request is not sent."""
    authfile = write_authfile(tmp_path / "auth.json", "registry.example", "alice", SECRET)
    sent: list[str] = []

    def handler(request: Request) -> Response:
        sent.append(f"{request.method} {request.url.scheme}")
        if "Authorization" not in request.headers and request.url.path != "/v2/":
            return Response(401, headers={"WWW-Authenticate": 'Basic realm="r"'})
        location = "http://registry.example/v2/app/blobs/uploads/1?state=s"
        return Response(202, headers={"Location": location, "Content-Length": "0"})

    with pytest.raises(RegistryError, match="spoken to over HTTPS, and its token or credentials"):
        client_for(handler, authfile=authfile).upload_blob("app", DIGEST, [b"blob"])
    assert "http" not in {scheme for _, scheme in map(str.split, sent)}


def test_answers_are_asked_for_and_taken_only_without_content_coding() -> None:
    """A compressed answer could inflate a thousandfold after its bytes were counted."""
    asked: list[str | None] = []

    def handler(request: Request) -> Response:
        asked.append(request.headers.get("Accept-Encoding"))
        if request.url.path == "/v2/":
            return Response(200)
        return Response(200, headers={"Content-Encoding": "gzip"}, content=b"\x1f\x8b")

    with pytest.raises(RegistryError) as caught:
        client_for(handler).list_tags("app")
    assert str(caught.value) == (
        "registry registry.example: GET https://registry.example/v2/app/tags/list: "
        "answer in gzip coding, which was not asked for"
    )
    assert asked == ["identity", "identity"]


# --- token realms -------------------------------------------------------------------------


class RealmRegistry:
    """A registry answering 401 with a Bearer challenge for ``realm``; records token requests."""

    def __init__(self, realm: str) -> None:
        self.realm, self.token_requests = realm, list[Request]()

    def __call__(self, request: Request) -> Response:
        if request.url.path == "/token":
            self.token_requests.append(request)
            return Response(200, json={"token": "t"})
        if request.headers.get("Authorization") == "Bearer t":
            return Response(200, json={"tags": ["v1"]})
        challenge = f'Bearer realm="{self.realm}",service="registry.example"'
        return Response(401, headers={"WWW-Authenticate": challenge})


@pytest.fixture
def authfile(tmp_path: Path) -> Path:
    return write_authfile(tmp_path / "auth.json", "registry.example", "alice", SECRET)


def test_credentials_are_never_sent_to_a_plain_http_realm(authfile: Path) -> None:
    registry = RealmRegistry("http://auth.example:8080/token")
    with pytest.raises(AuthenticationError) as caught:
        client_for(registry, authfile=authfile).list_tags("app")
    assert str(caught.value) == (
        "registry registry.example: token realm http://auth.example:8080 is plain HTTP: "
        f"credentials for user alice from {authfile} would travel in clear, so they are not sent"
    )
    assert registry.token_requests == []
    assert SECRET not in repr(caught.value)


def test_a_plain_http_realm_gets_no_credentials_and_so_may_be_asked_anonymously() -> None:
    registry = RealmRegistry("http://auth.example/token")
    assert client_for(registry).list_tags("app") == ["v1"]
    assert [r.headers.get("Authorization") for r in registry.token_requests] == [None]


@pytest.mark.parametrize(
    ("registry", "insecure"),
    [("127.0.0.1:5000", frozenset()), ("registry.example", frozenset({"registry.example"}))],
)
def test_loopback_and_insecure_registries_may_use_a_plain_http_realm(
    tmp_path: Path, registry: str, insecure: frozenset[str]
) -> None:
    authfile = write_authfile(tmp_path / "auth.json", registry, "alice", SECRET)
    realm = RealmRegistry("http://127.0.0.1:5001/token")
    client = client_for(realm, registry, authfile=authfile, insecure_registries=insecure)
    assert client.list_tags("app") == ["v1"]
    assert [r.headers["Authorization"] for r in realm.token_requests] == [
        basic_value("alice", SECRET)
    ]


@pytest.mark.parametrize("realm", ["/token", "auth.example/token", "https://auth.example:x/"])
def test_a_realm_that_is_not_an_absolute_url_is_a_registry_error(realm: str) -> None:
    with pytest.raises(RegistryError) as caught:
        client_for(RealmRegistry(realm)).list_tags("app")
    assert str(caught.value) == (
        "registry registry.example: the token realm it names is not an absolute URL"
    )


# --- deeply nested JSON -------------------------------------------------------------------

NESTED = b"[" * 100_000  # json.loads raises RecursionError, which is no ValueError


def test_deeply_nested_tag_list_is_not_a_tag_list() -> None:
    client = client_for(lambda request: Response(200, content=NESTED))
    with pytest.raises(RegistryError) as caught:
        client.list_tags("app")
    assert str(caught.value) == "registry registry.example: /v2/app/tags/list: not a tag list"


def test_deeply_nested_error_body_is_left_out_of_the_message() -> None:
    def handler(request: Request) -> Response:
        if request.url.path == "/v2/":
            return Response(200)
        return Response(403, content=NESTED)

    with pytest.raises(RegistryError) as caught:
        client_for(handler).get_manifest("app", "v1")
    assert str(caught.value) == (
        "registry registry.example: GET /v2/app/manifests/v1: 403 Forbidden"
    )


def test_deeply_nested_token_answer_is_no_token() -> None:
    registry = RealmRegistry("https://auth.example/token")

    def handler(request: Request) -> Response:
        if request.url.path == "/token":
            return Response(200, content=NESTED)
        return registry(request)

    with pytest.raises(RegistryError) as caught:
        client_for(handler).list_tags("app")
    assert str(caught.value) == (
        "registry registry.example: token service https://auth.example/token "
        "did not answer with a token"
    )


# --- answers that overrun their framing, and challenges from elsewhere ---------------------

OK_EMPTY = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"


def _manifest_head(digest: str) -> bytes:
    return (
        f"HTTP/1.1 200 OK\r\nDocker-Content-Digest: {digest}\r\nContent-Type: {OCI_MANIFEST}\r\n"
        "Content-Length: 10\r\n\r\n"
    ).encode()


def test_bytes_past_an_answer_never_become_the_next_answer() -> None:
    """A HEAD answered with a body that is itself an answer, with a forged digest: the connection
    holding those bytes is closed, not pooled, and the next HEAD gets its own answer."""
    forged, true_a, true_b = (f"sha256:{c * 64}" for c in "fab")

    def script(method: str, target: str, _fields: dict[str, str]) -> bytes:
        if target == "/v2/":
            return OK_EMPTY
        if target.endswith("/manifests/a"):
            return _manifest_head(true_a) + _manifest_head(forged)
        time.sleep(0.2)  # the true answer comes late: the stray one would be read first
        return _manifest_head(true_b)

    with raw_server(script) as (port, requests):
        client = RegistryClient(f"127.0.0.1:{port}", RegistryOptions(), sleep=lambda _: None)
        try:
            found = [client.head_manifest("app", tag) for tag in ("a", "b")]
        finally:
            client.close()
    assert [d.digest if d else None for d in found] == [true_a, true_b]
    assert [target for _, target, _ in requests][-2:] == [
        "/v2/app/manifests/a",
        "/v2/app/manifests/b",
    ]


def test_a_redirect_target_asking_for_credentials_gets_none(tmp_path: Path) -> None:
    """A blob GET redirected to storage that answers 401 with a realm of its own: the registry's
    password never goes there (the redirect itself already went without the token)."""
    authfile = write_authfile(tmp_path / "auth.json", "127.0.0.1", "alice", SECRET)
    realm_requests: list[tuple[str, str, dict[str, str]]] = []

    def realm(method: str, target: str, fields: dict[str, str]) -> bytes:
        realm_requests.append((method, target, fields))
        token = b'{"token": "t"}'
        return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(token), token)

    with raw_server(realm) as (realm_port, _):

        def storage(_method: str, _target: str, _fields: dict[str, str]) -> bytes:
            challenge = f'Bearer realm="http://127.0.0.1:{realm_port}/token",service="s"'
            return (
                "HTTP/1.1 401 Unauthorized\r\n"
                f"WWW-Authenticate: {challenge}\r\nContent-Length: 0\r\n\r\n"
            ).encode()

        with raw_server(storage) as (storage_port, _):

            def registry(_method: str, target: str, _fields: dict[str, str]) -> bytes:
                if target == "/v2/":
                    return OK_EMPTY
                location = f"http://127.0.0.1:{storage_port}/blob?sig=1"
                return (
                    "HTTP/1.1 307 Temporary Redirect\r\n"
                    f"Location: {location}\r\nContent-Length: 0\r\n\r\n"
                ).encode()

            with raw_server(registry) as (port, _):
                name = f"127.0.0.1:{port}"
                write_authfile(authfile, name, "alice", SECRET)
                options = RegistryOptions(authfile=authfile)
                client = RegistryClient(name, options, sleep=lambda _: None)
                try:
                    with (
                        pytest.raises(RegistryError, match="401"),
                        client.open_blob("app", DIGEST) as chunks,
                    ):
                        list(chunks)
                finally:
                    client.close()
    assert realm_requests == []
