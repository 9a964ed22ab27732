"""Punycode registry hosts are reached as written, by ``resolve`` and by ``plan``.

``xn--n3h.com`` (the reference grammar's own example) is a name IDNA 2008 refuses to decode, and
``xn--bcher-kva.example`` one it decodes: neither may crash tagmgr or trip the check that a
request goes to the host its registry names. A proxy on 127.0.0.1 resolves them to the test
registry, as DNS would.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tagmgr.registry.proxy import LOOPBACK_VARIABLE
from tests.support.e2e import one_entry_manifest, run_tagmgr
from tests.support.oci import ImageFactory
from tests.support.proxy import ForwardProxy
from tests.support.push import push
from tests.support.registry import RegistryServer

HOSTS = ("xn--n3h.com", "xn--bcher-kva.example")
PROXY_VARIABLES = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy")


@pytest.fixture
def resolver(monkeypatch: pytest.MonkeyPatch) -> Iterator[ForwardProxy]:
    for name in (*PROXY_VARIABLES, LOOPBACK_VARIABLE):
        monkeypatch.delenv(name, raising=False)
    with ForwardProxy(hosts=dict.fromkeys(HOSTS, "127.0.0.1")) as proxy:
        monkeypatch.setenv("HTTPS_PROXY", proxy.url())
        monkeypatch.setenv("HTTP_PROXY", proxy.url())
        yield proxy


@pytest.mark.parametrize("host", HOSTS)
def test_resolve_and_plan_reach_a_punycode_host(
    host: str,
    resolver: ForwardProxy,
    registry: RegistryServer,
    repo: str,
    images: ImageFactory,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    image = images.oci(host)
    push(registry.address, repo, "build-1", image)
    named = f"{host}:{registry.address.rpartition(':')[2]}"
    insecure = f"--insecure-registry={named}"

    resolved = run_tagmgr(capsys, "resolve", insecure, f"{named}/{repo}:build-1")
    assert (resolved.code, resolved.err) == (0, "")
    assert resolved.out.split()[:2] == [f"{named}/{repo}:build-1", image.digest]

    manifest = one_entry_manifest(tmp_path / "m.yaml", f"{named}/{repo}")
    assert run_tagmgr(capsys, "validate", manifest).code == 0
    planned = run_tagmgr(capsys, "plan", insecure, manifest)
    assert (planned.code, planned.err) == (0, ""), planned.out
    assert f"create          {named}/{repo}:v1 <- build-1" in planned.out
    assert f"GET http://{named}/v2/" in resolver.seen
