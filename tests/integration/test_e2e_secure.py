"""TLS from a private CA and htpasswd basic auth, end to end with real skopeo."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from pathlib import Path

import pytest

from tagmgr.system import process
from tests.support.e2e import run_tagmgr, write_manifest
from tests.support.oci import ImageFactory
from tests.support.push import head_digest, push
from tests.support.registry import SecureRegistry

pytestmark = pytest.mark.integration


def write_authfile(path: Path, registry: str, username: str, password: str) -> Path:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    path.write_text(json.dumps({"auths": {registry: {"auth": token}}}), encoding="utf-8")
    return path


@pytest.fixture
def pushed(
    secure_registry: SecureRegistry, repo: str, images: ImageFactory, tmp_path: Path
) -> Path:
    """A manifest whose source exists on the secure registry."""
    push(
        secure_registry.address,
        repo,
        "build-1",
        images.index(),
        ca_path=secure_registry.ca_path,
        auth=secure_registry.auth,
    )
    entry = {"name": f"{secure_registry.address}/{repo}", "src_build_tag": "build-1", "tag": "v1"}
    return write_manifest(tmp_path / "m.yaml", [entry])


def test_tls_and_basic_auth(
    secure_registry: SecureRegistry,
    pushed: Path,
    repo: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    argvs: list[Sequence[str]] = []
    real_run = process.run

    def recording_run(argv: Sequence[str], **kwargs: object) -> process.Completed:
        argvs.append(list(argv))
        return real_run(argv, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(process, "run", recording_run)
    authfile = write_authfile(
        tmp_path / "auth.json",
        secure_registry.address,
        secure_registry.username,
        secure_registry.password,
    )
    options = ["--certs-dir", str(secure_registry.certs_d), "--authfile", str(authfile)]
    result = run_tagmgr(capsys, "apply", "--yes", "-vv", "--engine=skopeo", *options, pushed)
    assert result.code == 0, result.out + result.err
    expected = head_digest(
        secure_registry.address,
        repo,
        "build-1",
        ca_path=secure_registry.ca_path,
        auth=secure_registry.auth,
    )
    actual = head_digest(
        secure_registry.address,
        repo,
        "v1",
        ca_path=secure_registry.ca_path,
        auth=secure_registry.auth,
    )
    assert actual == expected
    assert [argv[:2] for argv in argvs] == [["skopeo", "copy"]]
    assert not any(secure_registry.password in arg for argv in argvs for arg in argv)
    assert secure_registry.password not in result.out + result.err


def test_wrong_credentials_give_one_clear_line(
    secure_registry: SecureRegistry,
    pushed: Path,
    repo: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    authfile = write_authfile(
        tmp_path / "auth.json", secure_registry.address, secure_registry.username, "wrong-password"
    )
    result = run_tagmgr(
        capsys, "plan", "--certs-dir", secure_registry.certs_d, "--authfile", authfile, pushed
    )
    assert result.code == 1
    assert result.out.splitlines()[:2] == [
        f"error           {secure_registry.address}/{repo}:v1 <- build-1",
        f"                registry {secure_registry.address}: credentials for user "
        f"{secure_registry.username} from {authfile} were refused",
    ]
    assert "wrong-password" not in result.out + result.err


def test_untrusted_certificate(
    secure_registry: SecureRegistry, pushed: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result = run_tagmgr(capsys, "plan", pushed)
    address = secure_registry.address
    assert result.code == 1
    assert result.out.splitlines()[1] == (
        f"                registry {address}: TLS certificate of https://{address}/v2/ is not "
        "trusted (unable to get local issuer certificate); put the CA certificate that signed it "
        f"in /etc/containers/certs.d/{address}/ca.crt, or in DIR/{address}/ca.crt and pass "
        "--certs-dir DIR"
    )
