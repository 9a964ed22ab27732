"""The api engine against real registries: each path it can take, every tag pulled whole by skopeo.

Another repository by mount, and by a streamed copy when a proxy keeps the registry from
mounting; another registry by a streamed copy. (A retag in one repository, through the CLI, is
in test_e2e_plain.py, for every kind of image and both engines.)
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from tagmgr.engines.api import ApiEngine
from tagmgr.oci.reference import ImageReference
from tagmgr.registry import Registries, RegistryOptions
from tests.support.faults import fault_proxy, first
from tests.support.oci import OCI_INDEX, OCI_MANIFEST, Image, ImageFactory
from tests.support.pull import pull_whole
from tests.support.push import push
from tests.support.registry import RegistryServer

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def other_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegistryServer]:
    with RegistryServer(tmp_path_factory.mktemp("other-registry")) as server:
        yield server


@pytest.fixture(autouse=True)
def tagmgr_logs_to_caplog(monkeypatch: pytest.MonkeyPatch) -> None:
    """Undo what an in-process CLI run left on tagmgr's logger (a handler on a closed stream)."""
    logger = logging.getLogger("tagmgr")
    monkeypatch.setattr(logger, "handlers", [])
    monkeypatch.setattr(logger, "propagate", True)


def copy(source: str, destination: str, image: Image, *, caplog: pytest.LogCaptureFixture) -> str:
    """Copy ``source``@digest to ``destination`` with the api engine; return what -v logs."""
    with caplog.at_level("INFO", logger="tagmgr"), Registries(RegistryOptions()) as registries:
        written = ApiEngine(registries).copy(
            ImageReference.parse(source).with_digest(image.digest),
            ImageReference.parse(destination),
        )
    assert written.digest == image.digest
    return caplog.records[-1].getMessage()


def assert_pulls_whole(reference: str, image: Image, tmp_path: Path) -> None:
    pulled = pull_whole(reference, tmp_path / "pulled")
    if image.media_type in (OCI_MANIFEST, OCI_INDEX):
        assert pulled == image.digest


@pytest.mark.parametrize("kind", ["index", "docker"])
def test_another_repository_gets_every_blob_mounted(
    kind: str,
    registry: RegistryServer,
    repo: str,
    images: ImageFactory,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    image = images.build(kind)
    push(registry.address, f"{repo}/from", "build-1", image)
    said = copy(
        f"{registry.address}/{repo}/from", f"{registry.address}/{repo}/to:v1", image, caplog=caplog
    )
    blobs, children = len(image.all_blobs()), len(image.children)
    expected = f"api engine, from {repo}/from (same registry): {blobs} blobs mounted, "
    if children:
        expected += f"{children} child manifests PUT, "
    assert said == f"{registry.address}/{repo}/to:v1: {expected}manifest PUT"
    assert_pulls_whole(f"{registry.address}/{repo}/to:v1", image, tmp_path)


def test_a_registry_that_will_not_mount_gets_the_blobs_streamed(
    registry: RegistryServer,
    repo: str,
    images: ImageFactory,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    image = images.index()
    push(registry.address, f"{repo}/from", "build-1", image)
    mounts = first(100, "no-mount", when=lambda method, target: "mount=" in target)
    with fault_proxy(registry.address, mounts) as proxy:
        said = copy(
            f"{proxy.address}/{repo}/from", f"{proxy.address}/{repo}/to:v1", image, caplog=caplog
        )
    assert len(proxy.faults) == len(image.all_blobs())
    assert said.endswith("4 blobs streamed, 2 child manifests PUT, manifest PUT")
    assert_pulls_whole(f"{registry.address}/{repo}/to:v1", image, tmp_path)


@pytest.mark.parametrize("kind", ["index", "docker"])
def test_another_registry_gets_the_blobs_streamed(
    kind: str,
    registry: RegistryServer,
    other_registry: RegistryServer,
    repo: str,
    images: ImageFactory,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    image = images.build(kind)
    push(registry.address, repo, "build-1", image)
    destination = f"{other_registry.address}/{repo}:v1"
    said = copy(f"{registry.address}/{repo}", destination, image, caplog=caplog)
    assert f"api engine, from {registry.address}: {len(image.all_blobs())} blobs streamed" in said
    assert_pulls_whole(destination, image, tmp_path)
    again = copy(
        f"{registry.address}/{repo}", f"{other_registry.address}/{repo}:v2", image, caplog=caplog
    )
    assert f"{len(image.all_blobs())} blobs present" in again
