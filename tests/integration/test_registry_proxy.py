"""HTTPS_PROXY, HTTP_PROXY and NO_PROXY for tagmgr's own registry client, as skopeo reads them:
the rules as pure logic, then ``tagmgr plan`` through a real proxy on 127.0.0.1."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from tagmgr.registry.proxy import LOOPBACK_VARIABLE, ProxySettings, redact_proxy
from tests.integration.test_e2e_secure import write_authfile
from tests.support.e2e import run_tagmgr, write_manifest
from tests.support.oci import ImageFactory
from tests.support.proxy import ForwardProxy
from tests.support.push import push
from tests.support.registry import RegistryServer, SecureRegistry

PROXY_VARIABLES = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy")
SECRET = "pr0xy-s3cret"


@pytest.mark.parametrize(
    ("env", "scheme", "host", "expected"),
    [
        ({"HTTPS_PROXY": "http://p:3128"}, "https", "quay.io", "http://p:3128"),
        ({"https_proxy": "p:3128"}, "https", "quay.io", "http://p:3128"),
        (
            {"HTTPS_PROXY": "http://A:1", "https_proxy": "http://a:1"},
            "https",
            "quay.io",
            "http://A:1",
        ),
        ({"HTTPS_PROXY": "http://p:1"}, "http", "quay.io", None),
        ({"HTTP_PROXY": "http://p:1"}, "http", "10.1.1.1:5000", "http://p:1"),
        ({"HTTPS_PROXY": "http://p:1", "NO_PROXY": "*"}, "https", "quay.io", None),
        ({"HTTPS_PROXY": "http://p:1", "NO_PROXY": "a.io, quay.io"}, "https", "quay.io", None),
        ({"HTTPS_PROXY": "http://p:1", "no_proxy": "QUAY.io"}, "https", "cdn.quay.io", None),
        ({"HTTPS_PROXY": "http://p:1", "NO_PROXY": ".quay.io"}, "https", "quay.io", "http://p:1"),
        ({"HTTPS_PROXY": "http://p:1", "NO_PROXY": "*.quay.io"}, "https", "a.quay.io", None),
        ({"HTTPS_PROXY": "http://p:1", "NO_PROXY": "ay.io"}, "https", "quay.io", "http://p:1"),
        ({"HTTPS_PROXY": "http://p:1", "NO_PROXY": "r.lan:5000"}, "https", "r.lan:5000", None),
        ({"HTTPS_PROXY": "http://p:1", "NO_PROXY": "r.lan:5000"}, "https", "r.lan", "http://p:1"),
        ({"HTTPS_PROXY": "http://p:1", "NO_PROXY": "10.0.0.0/8"}, "https", "10.2.3.4:5000", None),
        (
            {"HTTPS_PROXY": "http://p:1", "NO_PROXY": "10.0.0.0/8"},
            "https",
            "11.2.3.4",
            "http://p:1",
        ),
        ({"HTTPS_PROXY": "http://p:1", "NO_PROXY": "fd00::/8"}, "https", "[fd00::1]:5000", None),
        ({"HTTPS_PROXY": "http://p:1"}, "https", "127.0.0.1:5000", None),
        ({"HTTPS_PROXY": "http://p:1"}, "https", "localhost", None),
        ({"HTTPS_PROXY": "http://p:1"}, "https", "[::1]:5000", None),
        (
            {"HTTPS_PROXY": "http://p:1", LOOPBACK_VARIABLE: "1"},
            "https",
            "[::1]:5000",
            "http://p:1",
        ),
        (
            {"HTTPS_PROXY": "http://p:1", LOOPBACK_VARIABLE: "1", "NO_PROXY": "127.0.0.1"},
            "https",
            "127.0.0.1:5000",
            None,
        ),
    ],
)
def test_which_proxy(env: dict[str, str], scheme: str, host: str, expected: str | None) -> None:
    assert ProxySettings.from_env(env).proxy_for(scheme, host) == expected


def test_credentials_are_cut_from_a_proxy_url_shown() -> None:
    assert redact_proxy(f"http://user:{SECRET}@proxy.lan:3128") == "http://proxy.lan:3128"
    assert redact_proxy("http://proxy.lan:3128") == "http://proxy.lan:3128"


@pytest.fixture
def proxy(monkeypatch: pytest.MonkeyPatch) -> Iterator[ForwardProxy]:
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    with ForwardProxy(credentials=("builder", SECRET)) as running:
        yield running


@pytest.fixture
def two_registries(
    registry: RegistryServer,
    secure_registry: SecureRegistry,
    repo: str,
    images: ImageFactory,
    tmp_path: Path,
) -> tuple[Path, list[str]]:
    """A manifest with one entry on the plain registry and one on the TLS one; plan's options."""
    push(registry.address, repo, "build-1", images.oci("plain"))
    push(
        secure_registry.address,
        repo,
        "build-1",
        images.oci("secure"),
        ca_path=secure_registry.ca_path,
        auth=secure_registry.auth,
    )
    manifest = write_manifest(
        tmp_path / "m.yaml",
        [
            {"name": f"{registry.address}/{repo}", "src_build_tag": "build-1", "tag": "v1"},
            {"name": f"{secure_registry.address}/{repo}", "src_build_tag": "build-1", "tag": "v1"},
        ],
    )
    authfile = write_authfile(
        tmp_path / "auth.json", secure_registry.address, *secure_registry.auth
    )
    return manifest, ["--certs-dir", str(secure_registry.certs_d), f"--authfile={authfile}"]


def test_plan_goes_through_the_proxy_to_a_tls_and_a_plain_registry(
    proxy: ForwardProxy,
    two_registries: tuple[Path, list[str]],
    registry: RegistryServer,
    secure_registry: SecureRegistry,
    repo: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    manifest, options = two_registries
    monkeypatch.setenv("HTTPS_PROXY", proxy.url("builder", SECRET))
    monkeypatch.setenv("http_proxy", proxy.url("builder", SECRET))
    monkeypatch.setenv(LOOPBACK_VARIABLE, "1")
    with caplog.at_level(logging.DEBUG, logger="tagmgr"):
        result = run_tagmgr(capsys, "plan", "-vv", *options, manifest)
    assert result.code == 0, result.out + result.err
    assert f"CONNECT {secure_registry.address}" in proxy.seen
    assert f"GET http://{registry.address}/v2/" in proxy.seen
    assert proxy.refused == []
    shown = result.out + result.err + caplog.text
    assert SECRET not in shown
    assert f"through proxy http://127.0.0.1:{proxy.port}" in shown


def test_plan_goes_through_an_https_proxy_to_a_tls_registry(
    two_registries: tuple[Path, list[str]],
    secure_registry: SecureRegistry,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """TLS to the proxy, the registry's TLS inside it (httpx's transport, imported for this)."""
    manifest, options = two_registries
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(LOOPBACK_VARIABLE, "1")
    # The registry's own certificate is for 127.0.0.1 too; the proxy's is checked against the
    # system's trust, which SSL_CERT_FILE replaces.
    monkeypatch.setenv("SSL_CERT_FILE", str(secure_registry.ca_path))
    with ForwardProxy(credentials=("builder", SECRET), tls=secure_registry.tls) as proxy:
        monkeypatch.setenv("HTTPS_PROXY", proxy.url("builder", SECRET))
        result = run_tagmgr(capsys, "plan", *options, manifest)
    assert result.code == 0, result.out + result.err
    assert f"CONNECT {secure_registry.address}" in proxy.seen
    assert SECRET not in result.out + result.err


def test_loopback_goes_direct_unless_asked_and_no_proxy_is_honoured(
    proxy: ForwardProxy,
    two_registries: tuple[Path, list[str]],
    registry: RegistryServer,
    secure_registry: SecureRegistry,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    manifest, options = two_registries
    monkeypatch.setenv("HTTPS_PROXY", proxy.url("builder", SECRET))
    monkeypatch.setenv("HTTP_PROXY", proxy.url("builder", SECRET))
    assert run_tagmgr(capsys, "plan", *options, manifest).code == 0
    assert proxy.seen == []
    monkeypatch.setenv(LOOPBACK_VARIABLE, "1")
    monkeypatch.setenv(
        "NO_PROXY", f"example.org,127.0.0.1:{secure_registry.address.rsplit(':')[1]}"
    )
    assert run_tagmgr(capsys, "plan", *options, manifest).code == 0
    assert not any(secure_registry.address in line for line in proxy.seen)
    assert f"GET http://{registry.address}/v2/" in proxy.seen


def test_a_proxy_refusing_the_credentials_is_a_registry_error_without_them(
    proxy: ForwardProxy,
    two_registries: tuple[Path, list[str]],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    manifest, options = two_registries
    monkeypatch.setenv("HTTPS_PROXY", proxy.url("builder", "wrong-" + SECRET))
    monkeypatch.setenv("HTTP_PROXY", proxy.url("builder", "wrong-" + SECRET))
    monkeypatch.setenv(LOOPBACK_VARIABLE, "1")
    result = run_tagmgr(capsys, "plan", *options, manifest)
    assert result.code == 1
    assert len(proxy.refused) >= 2
    assert SECRET not in result.out + result.err
