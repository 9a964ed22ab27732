"""Bearer tokens from a token server the test starts, for a registry configured ``auth: token``.

The token server grants per user and repository prefix; the registry checks each token's actions.
Reads ask for pull, writes for pull,push, a mount also for pull on the repository it mounts from.
"""

from __future__ import annotations

import logging
import secrets
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tagmgr.engines.api import ApiEngine
from tagmgr.oci.reference import ImageReference
from tagmgr.registry import Registries, RegistryOptions
from tests.integration.test_e2e_secure import write_authfile
from tests.support.e2e import Run, one_entry_manifest, run_tagmgr
from tests.support.oci import ImageFactory, write_oci_layout
from tests.support.pull import pull_whole
from tests.support.registry import RegistryServer
from tests.support.tokens import TokenServer, running_token_server

pytestmark = pytest.mark.integration
PULL, PUSH = frozenset({"pull"}), frozenset({"pull", "push"})


@dataclass(frozen=True)
class TokenRegistry:
    server: RegistryServer
    tokens: TokenServer
    passwords: dict[str, str]

    def authfile(self, directory: Path, user: str) -> Path:
        return write_authfile(
            directory / f"{user}.json", self.server.address, user, self.passwords[user]
        )


@pytest.fixture(scope="module")
def token_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TokenRegistry]:
    workdir = tmp_path_factory.mktemp("token-registry")
    passwords = {user: secrets.token_urlsafe(12) for user in ("pusher", "reader")}
    grants = {"pusher": {"": PUSH}, "reader": {"": PULL}}
    with running_token_server(workdir / "tokens", passwords, grants) as tokens:
        server = RegistryServer(workdir / "server", auth=tokens.registry_auth())
        with server:
            yield TokenRegistry(server, tokens, passwords)


@pytest.fixture(autouse=True)
def tagmgr_logs_to_caplog(monkeypatch: pytest.MonkeyPatch) -> None:
    logger = logging.getLogger("tagmgr")
    monkeypatch.setattr(logger, "handlers", [])
    monkeypatch.setattr(logger, "propagate", True)


def push_with_skopeo(registry: TokenRegistry, reference: str, layout: Path, authfile: Path) -> None:
    argv = ["skopeo", "copy", "--all", "--preserve-digests", "--quiet", "--dest-tls-verify=false"]
    result = subprocess.run(
        [*argv, f"--dest-authfile={authfile}", f"oci:{layout}:latest", f"docker://{reference}"],
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr.decode()


@pytest.fixture
def pushed(token_registry: TokenRegistry, repo: str, images: ImageFactory, tmp_path: Path) -> str:
    """An OCI index pushed as ``repo:build-1``; returns its digest."""
    image = images.index()
    layout = write_oci_layout(image, tmp_path / "layout")
    pusher = token_registry.authfile(tmp_path, "pusher")
    push_with_skopeo(
        token_registry, f"{token_registry.server.address}/{repo}:build-1", layout, pusher
    )
    return image.digest


def apply_as(
    registry: TokenRegistry,
    user: str,
    repo: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> tuple[Run, Path]:
    """``tagmgr apply`` of ``repo:v1`` from ``build-1`` with ``user``'s credentials."""
    name = f"{registry.server.address}/{repo}"
    manifest = one_entry_manifest(tmp_path / "m.yaml", name)
    authfile = registry.authfile(tmp_path, user)
    return run_tagmgr(capsys, "apply", "--yes", "--authfile", authfile, manifest), authfile


def test_apply_asks_for_pull_then_push_and_the_tag_pulls_whole(
    token_registry: TokenRegistry,
    pushed: str,
    repo: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    address = token_registry.server.address
    result, authfile = apply_as(token_registry, "pusher", repo, tmp_path, capsys)
    assert result.code == 0, result.out + result.err
    asked = [scopes for user, scopes in token_registry.tokens.requested if user == "pusher"]
    assert (f"repository:{repo}:pull",) in asked
    assert (f"repository:{repo}:pull,push",) in asked
    assert pull_whole(f"{address}/{repo}:v1", tmp_path / "pulled", authfile=authfile) == pushed


def test_a_user_without_push_is_told_which_scope_was_not_granted(
    token_registry: TokenRegistry,
    pushed: str,
    repo: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    address = token_registry.server.address
    result, authfile = apply_as(token_registry, "reader", repo, tmp_path, capsys)
    assert result.code == 1
    assert result.out.splitlines()[:2] == [
        f"failed          {address}/{repo}:v1 <- build-1  {pushed[:19]}",
        f"                registry {address}: user reader from {authfile} is not granted "
        f"repository:{repo}:pull,push by the token service",
    ]
    assert token_registry.passwords["reader"] not in result.out + result.err


def test_a_mount_asks_for_both_repositories_in_one_token(
    token_registry: TokenRegistry,
    pushed: str,
    repo: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    address = token_registry.server.address
    authfile = token_registry.authfile(tmp_path, "pusher")
    source = ImageReference.parse(f"{address}/{repo}").with_digest(pushed)
    destination = ImageReference.parse(f"{address}/{repo}/copy:v1")
    with (
        caplog.at_level("INFO", logger="tagmgr"),
        Registries(RegistryOptions(authfile=authfile)) as registries,
    ):
        ApiEngine(registries).copy(source, destination)
    assert "4 blobs mounted, 2 child manifests PUT" in caplog.records[-1].getMessage()
    asked = [scopes for user, scopes in token_registry.tokens.requested if user == "pusher"]
    assert (f"repository:{repo}/copy:pull,push", f"repository:{repo}:pull") in asked
    assert pull_whole(str(destination), tmp_path / "pulled", authfile=authfile) == pushed
