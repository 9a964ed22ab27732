"""The registry client's distribution logic against a scripted registry (``MockTransport``):
what a real one will not do on demand: Link pagination, HEAD without a digest, lying digests,
error bodies, TLS failures. tests/integration/test_registry_client.py runs it against real ones.
"""

from __future__ import annotations

import json
import logging
import ssl
from pathlib import Path

import pytest
import trustme

from tagmgr.errors import CertificateError, RegistryError
from tagmgr.oci.descriptor import Descriptor
from tagmgr.oci.mediatypes import MANIFEST_MEDIA_TYPES, OCI_MANIFEST
from tagmgr.registry import Credentials, Registries, RegistryOptions
from tagmgr.registry.messages import URL, ConnectError, ReadTimeout, Request, Response
from tagmgr.registry.policy import RetryPolicy
from tagmgr.registry.tls import SYSTEM_CERTS_DIRS, Endpoint, endpoints, host_cert_dir, ssl_context
from tests.support.scripted import (
    DIGEST,
    MANIFEST,
    OTHER_DIGEST,
    client_for,
    failing,
    manifest_response,
    no_credentials_from_this_machine,  # noqa: F401 (autouse: no auth file of this machine is read)
)
from tests.support.transport import MockTransport

# --- tag lists ----------------------------------------------------------------------------


def test_list_tags_follows_relative_link_headers() -> None:
    pages = {
        None: (["a", "b"], '</v2/team/app/tags/list?n=2&last=b>; rel="next"'),
        "b": (
            ["c", "d"],
            '<https://registry.example/v2/team/app/tags/list?n=2&last=d>; rel="next"',
        ),
        "d": (["e"], None),
    }
    seen: list[URL] = []

    def handler(request: Request) -> Response:
        if request.url.path == "/v2/":
            return Response(200)
        seen.append(request.url)
        tags, link = pages[request.url.params.get("last")]
        headers = {"Link": link} if link else {}
        return Response(200, json={"name": "team/app", "tags": tags}, headers=headers)

    client = client_for(handler)
    assert client.listing_pages("team/app") is None
    assert client.list_tags("team/app", page_size=2) == ["a", "b", "c", "d", "e"]
    assert client.listing_pages("team/app") == 3  # for the re-check before writes (recheck.py)
    assert [dict(url.params) for url in seen] == [
        {"n": "2"},
        {"n": "2", "last": "b"},
        {"n": "2", "last": "d"},
    ]


def test_list_tags_of_an_unknown_repository_is_empty() -> None:
    def handler(request: Request) -> Response:
        if request.url.path == "/v2/":
            return Response(200)
        body = {"errors": [{"code": "NAME_UNKNOWN", "message": "repository name not known"}]}
        return Response(404, json=body)

    assert client_for(handler).list_tags("nobody/here") == []


def test_list_tags_null_tags_is_empty_and_a_looping_link_is_an_error() -> None:
    def handler(request: Request) -> Response:
        link = '</v2/app/tags/list?last=x>; rel="next"'
        return Response(200, json={"name": "app", "tags": None}, headers={"Link": link})

    with pytest.raises(RegistryError) as caught:
        client_for(handler).list_tags("app")
    assert str(caught.value) == (
        "registry registry.example: tag list pages loop back to "
        "https://registry.example/v2/app/tags/list?last=x"
    )


def test_list_tags_that_is_not_a_tag_list() -> None:
    client = client_for(lambda request: Response(200, json={"tags": "latest"}))
    with pytest.raises(RegistryError, match="/v2/app/tags/list: not a tag list"):
        client.list_tags("app")


# --- manifests ----------------------------------------------------------------------------


def test_head_manifest_sends_every_media_type_and_reads_headers() -> None:
    requests: list[Request] = []

    def handler(request: Request) -> Response:
        requests.append(request)
        return manifest_response(request)

    descriptor = client_for(handler).head_manifest("team/app", "v1")
    assert descriptor == Descriptor(OCI_MANIFEST, DIGEST, len(MANIFEST))
    head = requests[-1]
    assert head.method == "HEAD"
    assert head.url.path == "/v2/team/app/manifests/v1"
    assert head.headers["Accept"].split(", ") == list(MANIFEST_MEDIA_TYPES)


def test_head_manifest_missing_is_none() -> None:
    def handler(request: Request) -> Response:
        return Response(200 if request.url.path == "/v2/" else 404)

    assert client_for(handler).head_manifest("app", "v9") is None


def test_head_without_digest_falls_back_to_get_and_hashes_the_bytes() -> None:
    methods: list[str] = []

    def handler(request: Request) -> Response:
        methods.append(request.method)
        return manifest_response(request, digest=None)

    descriptor = client_for(handler).head_manifest("app", "v1")
    assert descriptor == Descriptor(OCI_MANIFEST, DIGEST, len(MANIFEST))
    assert methods[-2:] == ["HEAD", "GET"]


def test_head_by_digest_answered_with_another_digest_is_an_error() -> None:
    client = client_for(lambda request: manifest_response(request, digest=OTHER_DIGEST))
    with pytest.raises(RegistryError) as caught:
        client.head_manifest("app", DIGEST)
    assert str(caught.value) == (
        f"registry registry.example: manifest app@{DIGEST}: the registry announced {OTHER_DIGEST}"
    )


def test_get_manifest_returns_exact_bytes_and_verified_digest() -> None:
    descriptor, content = client_for(manifest_response).get_manifest("app", DIGEST)
    assert content == MANIFEST
    assert descriptor == Descriptor(OCI_MANIFEST, DIGEST, len(MANIFEST))


@pytest.mark.parametrize(
    ("reference", "announced", "problem"),
    [
        ("v1", OTHER_DIGEST, f"manifest app:v1: content hashes to {DIGEST}, not {OTHER_DIGEST}"),
        (
            OTHER_DIGEST,
            None,
            f"manifest app@{OTHER_DIGEST}: content hashes to {DIGEST}, not {OTHER_DIGEST}",
        ),
        (
            OTHER_DIGEST,
            DIGEST,
            f"manifest app@{OTHER_DIGEST}: content hashes to {DIGEST}, not {OTHER_DIGEST}",
        ),
    ],
)
def test_get_manifest_digest_mismatch_is_an_error(
    reference: str, announced: str | None, problem: str
) -> None:
    client = client_for(lambda request: manifest_response(request, digest=announced))
    with pytest.raises(RegistryError) as caught:
        client.get_manifest("app", reference)
    assert str(caught.value) == f"registry registry.example: {problem}"


def test_get_manifest_without_any_digest_uses_sha256_of_the_bytes() -> None:
    descriptor, _ = client_for(lambda r: manifest_response(r, digest=None)).get_manifest(
        "app", "v1"
    )
    assert descriptor.digest == DIGEST


# --- errors -------------------------------------------------------------------------------


def test_unexpected_status_carries_the_distribution_error() -> None:
    def handler(request: Request) -> Response:
        if request.url.path == "/v2/":
            return Response(200)
        errors = [
            {"code": "DENIED", "message": "requested access to the resource is denied"},
            {"code": "TOOMANYREQUESTS", "message": "slow down"},
        ]
        return Response(403, json={"errors": errors})

    with pytest.raises(RegistryError) as caught:
        client_for(handler).get_manifest("team/app", "v1")
    assert str(caught.value) == (
        "registry registry.example: GET /v2/team/app/manifests/v1: 403 Forbidden: "
        "DENIED: requested access to the resource is denied; TOOMANYREQUESTS: slow down"
    )


def test_unexpected_status_without_a_json_body_is_short() -> None:
    def handler(request: Request) -> Response:
        if request.url.path == "/v2/":
            return Response(200)
        return Response(500, text="<html>" + "x" * 5000)

    with pytest.raises(RegistryError) as caught:
        client_for(handler).list_tags("app")
    assert str(caught.value) == (
        "registry registry.example: GET /v2/app/tags/list: 500 Internal Server Error"
    )


def test_connection_refused_is_one_line_after_retries() -> None:
    def handler(request: Request) -> Response:
        raise failing(ConnectionRefusedError(111, "Connection refused"))

    with pytest.raises(RegistryError) as caught:
        client_for(handler).list_tags("app")
    assert str(caught.value) == (
        "registry registry.example: "
        "cannot connect to https://registry.example/v2/: connection refused"
    )
    assert isinstance(caught.value.__cause__, ConnectError)


def test_timeouts_say_how_long_was_waited() -> None:
    def handler(request: Request) -> Response:
        if request.url.path == "/v2/":
            return Response(200)
        raise ReadTimeout("timed out")

    with pytest.raises(RegistryError) as caught:
        client_for(handler, retry=RetryPolicy(request_timeout=7.0)).head_manifest("app", "v1")
    assert str(caught.value) == (
        "registry registry.example: no answer from "
        "https://registry.example/v2/app/manifests/v1 within 7 s (--request-timeout)"
    )


# --- scheme and TLS -----------------------------------------------------------------------


def speaks_only_http(request: Request) -> Response:
    if request.url.scheme == "https":
        error = ssl.SSLError(1, "[SSL: WRONG_VERSION_NUMBER] wrong version number")
        error.reason = "WRONG_VERSION_NUMBER"
        raise failing(error)
    return Response(200, json={"tags": ["v1"]})


def untrusted(request: Request) -> Response:
    error = ssl.SSLCertVerificationError(1, "certificate verify failed")
    error.verify_message = "self-signed certificate in certificate chain"
    raise failing(error)


def test_loopback_registry_without_tls_is_reached_over_http() -> None:
    client = client_for(speaks_only_http, "127.0.0.1:5000")
    assert client.list_tags("app") == ["v1"]
    connection = client.connection()
    assert connection.tls_verify is False
    assert connection.registry == "127.0.0.1:5000"


def test_remote_registry_without_tls_needs_insecure_registry() -> None:
    with pytest.raises(RegistryError) as caught:
        client_for(speaks_only_http, "registry.example:5000").connection()
    assert str(caught.value) == (
        "registry registry.example:5000: TLS handshake with https://registry.example:5000/v2/ "
        "failed (WRONG_VERSION_NUMBER); "
        "if it serves plain HTTP, pass --insecure-registry registry.example:5000"
    )
    insecure = {"insecure_registries": frozenset({"registry.example:5000"})}
    client = client_for(speaks_only_http, "registry.example:5000", **insecure)
    assert client.connection().tls_verify is False


def test_untrusted_certificate_is_never_downgraded_even_on_loopback() -> None:
    schemes: list[str] = []

    def handler(request: Request) -> Response:
        schemes.append(request.url.scheme)
        return untrusted(request)

    with pytest.raises(CertificateError) as caught:
        client_for(handler, "localhost:5000").connection()
    assert str(caught.value) == (
        "registry localhost:5000: TLS certificate of https://localhost:5000/v2/ is not trusted "
        "(self-signed certificate in certificate chain); put the CA certificate that signed it in "
        "/etc/containers/certs.d/localhost:5000/ca.crt, "
        "or in DIR/localhost:5000/ca.crt and pass --certs-dir DIR"
    )
    assert schemes == ["https"]


def test_docker_hub_is_served_from_registry_1() -> None:
    hosts: list[str] = []

    def handler(request: Request) -> Response:
        hosts.append(request.url.host)
        return manifest_response(request)

    client = client_for(handler, "docker.io")
    assert client.head_manifest("library/alpine", "3") is not None
    assert set(hosts) == {"registry-1.docker.io"}
    assert client.connection().tls_verify is True


@pytest.mark.parametrize(
    ("registry", "options", "expected"),
    [
        ("quay.io", RegistryOptions(), [Endpoint("https", verify=True)]),
        (
            "[::1]:5000",
            RegistryOptions(),
            [Endpoint("https", verify=True), Endpoint("http", verify=False)],
        ),
        (
            "10.0.0.5:5000",
            RegistryOptions(insecure_registries=frozenset({"10.0.0.5:5000"})),
            [Endpoint("https", verify=False), Endpoint("http", verify=False)],
        ),
    ],
)
def test_endpoints_per_registry(
    registry: str, options: RegistryOptions, expected: list[Endpoint]
) -> None:
    assert endpoints(registry, options) == expected


def test_certs_dirs_are_searched_before_the_system_ones(tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    (second / "q.example:5000").mkdir(parents=True)
    options = RegistryOptions(certs_dirs=(first, second))
    assert host_cert_dir("q.example:5000", options) == second / "q.example:5000"
    (first / "q.example:5000").mkdir(parents=True)
    assert host_cert_dir("q.example:5000", options) == first / "q.example:5000"
    assert host_cert_dir("elsewhere.example", options) is None
    assert SYSTEM_CERTS_DIRS[0] == Path("/etc/containers/certs.d")


def test_ssl_context_loads_ca_files_and_client_pairs(tmp_path: Path) -> None:
    ca = trustme.CA()
    ca.cert_pem.write_to_path(str(tmp_path / "ca.crt"))
    client_cert = ca.issue_cert("tagmgr-client")
    client_cert.private_key_and_cert_chain_pem.write_to_path(str(tmp_path / "client.cert"))
    client_cert.private_key_pem.write_to_path(str(tmp_path / "client.key"))
    context = ssl_context("q.example", tmp_path, verify=True)
    system_cas = ssl.create_default_context().cert_store_stats()["x509_ca"]
    assert context.cert_store_stats()["x509_ca"] == system_cas + 1
    assert context.verify_mode is ssl.CERT_REQUIRED

    (tmp_path / "client.key").unlink()
    with pytest.raises(CertificateError, match=r"client.cert has no matching key client.key"):
        ssl_context("q.example", tmp_path, verify=True)


def test_unreadable_ca_file_is_a_certificate_error(tmp_path: Path) -> None:
    (tmp_path / "ca.crt").write_text("not a certificate")
    with pytest.raises(CertificateError) as caught:
        ssl_context("q.example", tmp_path, verify=True)
    assert (
        str(caught.value)
        == f"registry q.example: {tmp_path / 'ca.crt'}: not a usable CA certificate"
    )


# --- caching, threads, logs ---------------------------------------------------------------


def test_registries_hands_out_one_client_per_host_and_closes_them() -> None:
    with Registries(RegistryOptions(), transport=MockTransport(manifest_response)) as registries:
        first = registries.client("registry.example")
        assert registries.client("registry.example") is first
        assert registries.client("other.example") is not first
        first.head_manifest("app", "v1")
    assert registries.client("registry.example") is not first


def test_debug_log_shows_method_url_status_and_never_credentials(
    caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    secret = "pa55-in-no-log"
    authfile = tmp_path / "auth.json"
    authfile.write_text(
        json.dumps({"auths": {"registry.example": {"username": "u", "password": secret}}})
    )

    def handler(request: Request) -> Response:
        if "Authorization" not in request.headers:
            return Response(401, headers={"WWW-Authenticate": 'Basic realm="r"'})
        return manifest_response(request)

    with caplog.at_level(logging.DEBUG, logger="tagmgr.registry"):
        client = client_for(handler, authfile=authfile)
        client.head_manifest("app", "v1")
    assert "HEAD https://registry.example/v2/app/manifests/v1 -> 200" in caplog.text
    assert secret not in caplog.text
    assert "Basic" not in caplog.text
    found = client.connection().credentials("app")
    assert found == Credentials("u", secret)
    assert found is not None
    assert found.source == str(authfile)
