"""The test support itself: images are what they claim, registries behave as real ones do.

Checks go through skopeo and raw HTTP, never through tagmgr.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import re
import subprocess
import tarfile
import time
from pathlib import Path

import httpx
import pytest

from tests.support.capacity import Capacity, CapacityError, apply_work, plan_work
from tests.support.gate import require_integration_tools
from tests.support.latency import LatencyRelay
from tests.support.oci import (
    DOCKER,
    KINDS,
    OCI,
    OCI_INDEX,
    OCI_MANIFEST,
    Image,
    ImageFactory,
    MediaTypes,
    write_oci_layout,
)
from tests.support.push import get_manifest_bytes, head_digest, push
from tests.support.registry import (
    RegistryServer,
    RegistryStartError,
    SecureRegistry,
    repository_for,
)
from tests.support.trust import issue_tls, ssl_context

# The distribution spec's repository grammar, written out here rather than taken from tagmgr.
REPOSITORY_GRAMMAR = re.compile(
    r"[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*"
)
OCI_KINDS = ("oci", "index", "unusual")


def run_skopeo(*args: str) -> subprocess.CompletedProcess[bytes]:
    # From PATH on purpose: the integration gate checked it is there.
    return subprocess.run(["skopeo", *args], capture_output=True, timeout=30, check=False)  # noqa: S607


def skopeo(*args: str) -> bytes:
    """Run skopeo; return stdout, or fail the test with its stderr."""
    result = run_skopeo(*args)
    assert result.returncode == 0, f"skopeo {' '.join(args)}: {result.stderr.decode()}"
    return result.stdout


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def blob_references(image: Image) -> list[dict[str, object]]:
    manifest = json.loads(image.manifest_bytes)
    return [manifest["config"], *manifest["layers"]]


# --- images, no registry ---


@pytest.mark.parametrize("kind", KINDS)
def test_a_seed_fixes_every_byte_and_another_seed_shares_no_blob(kind: str) -> None:
    build = KINDS[kind]
    first, again, other = build("a"), build("a"), build("b")
    assert again == first
    assert other.digest != first.digest
    assert not set(other.all_blobs()) & set(first.all_blobs())
    assert first.digest == sha256(first.manifest_bytes)


@pytest.mark.parametrize(("kind", "types"), [("oci", OCI), ("docker", DOCKER)])
def test_single_image_names_its_blobs_with_its_format_media_types(
    kind: str, types: MediaTypes
) -> None:
    image = KINDS[kind]("seed")
    manifest = json.loads(image.manifest_bytes)
    assert (image.media_type, manifest["mediaType"]) == (types.manifest, types.manifest)
    assert manifest["config"]["mediaType"] == types.config
    assert {layer["mediaType"] for layer in manifest["layers"]} == {types.layer}
    for ref in blob_references(image):
        assert sha256(image.blobs[str(ref["digest"])]) == ref["digest"]
        assert len(image.blobs[str(ref["digest"])]) == ref["size"]
    assert len(image.blobs) == 3


@pytest.mark.parametrize(("kind", "types"), [("index", OCI), ("docker_list", DOCKER)])
def test_multi_platform_image_lists_one_manifest_per_platform(kind: str, types: MediaTypes) -> None:
    image = KINDS[kind]("seed")
    index = json.loads(image.manifest_bytes)
    assert index["mediaType"] == image.media_type == types.index
    assert [entry["platform"] for entry in index["manifests"]] == [
        {"os": "linux", "architecture": "amd64"},
        {"os": "linux", "architecture": "arm64"},
    ]
    assert [(e["digest"], e["size"], e["mediaType"]) for e in index["manifests"]] == [
        (sha256(c.manifest_bytes), len(c.manifest_bytes), types.manifest) for c in image.children
    ]
    assert image.blobs == {}
    assert [m.digest for m in image.manifests()][-1] == image.digest


def test_layers_are_reproducible_gzip_tarballs_matching_the_config_diff_ids() -> None:
    image = KINDS["oci"]("seed")
    config_ref, *layer_refs = blob_references(image)
    diff_ids = json.loads(image.blobs[str(config_ref["digest"])])["rootfs"]["diff_ids"]
    for ref, diff_id in zip(layer_refs, diff_ids, strict=True):
        blob = image.blobs[str(ref["digest"])]
        assert blob[4:8] == b"\0\0\0\0"  # gzip header mtime
        tar = gzip.decompress(blob)
        assert sha256(tar) == diff_id
        with tarfile.open(fileobj=io.BytesIO(tar)) as archive:
            members = archive.getmembers()
        assert [(m.uid, m.gid, m.uname, m.mtime) for m in members] == [(0, 0, "", 1_700_000_000)]


def test_unusual_manifest_changes_digest_under_any_reserialisation() -> None:
    image = KINDS["unusual"]("seed")
    parsed = json.loads(image.manifest_bytes)
    rewritten = [
        json.dumps(parsed),
        json.dumps(parsed, indent=2),
        json.dumps(parsed, indent=3),
        json.dumps(parsed, separators=(",", ":")),
        json.dumps(parsed, sort_keys=True),
        json.dumps(parsed, ensure_ascii=False) + "\n",
        json.dumps(parsed, indent=3) + "\n",
    ]
    assert all(text.encode() != image.manifest_bytes for text in rewritten)
    assert parsed["annotations"]["org.example.note"].startswith("café ")
    assert b"\\u00e9" in image.manifest_bytes
    assert image.manifest_bytes.endswith(b"}\n")
    assert list(parsed) != sorted(parsed)
    assert parsed["mediaType"] == image.media_type == OCI_MANIFEST


def test_image_factory_seeds_are_unique_to_the_test() -> None:
    here, there = ImageFactory("tests/a.py::test_x"), ImageFactory("tests/a.py::test_y")
    assert here.oci().digest != there.oci().digest
    assert here.oci("1").digest != here.oci("2").digest
    assert here.docker_list().media_type == DOCKER.index


@pytest.mark.parametrize(
    "node_id",
    [
        "tests/test_support.py::test_push[oci]",
        "tests/test_Sync.py::TestCopy::test_ÜBER[--a__b..c-]",
        "tests/test_x.py::" + "very_long_name_" * 20,
        "tests/_.py::[]",
    ],
)
def test_repository_names_follow_the_grammar_and_are_unique(node_id: str) -> None:
    name = repository_for(node_id)
    assert REPOSITORY_GRAMMAR.fullmatch(name), name
    assert len(name) < 128
    assert repository_for(node_id + "x") != name


def test_repository_name_reads_like_the_test() -> None:
    name = repository_for("tests/test_sync.py::test_copy[oci-1]")
    assert re.fullmatch(r"test-sync/test-copy-oci-1-[0-9a-f]{8}", name)


def test_layout_writer_refuses_docker_media_types(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"manifest\.list\.v2"):
        write_oci_layout(KINDS["docker_list"]("seed"), tmp_path)


# --- the integration gate ---


@pytest.fixture
def no_tools_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))


@pytest.mark.usefixtures("no_tools_on_path")
@pytest.mark.parametrize("ci", ["true", "1", "yes"])
def test_missing_tools_fail_under_ci(ci: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", ci)
    with pytest.raises(pytest.fail.Exception, match="needs docker-registry and skopeo"):
        require_integration_tools()


@pytest.mark.usefixtures("no_tools_on_path")
@pytest.mark.parametrize("ci", [None, "", "false", "0", "False"])
def test_missing_tools_skip_outside_ci(ci: str | None, monkeypatch: pytest.MonkeyPatch) -> None:
    if ci is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", ci)
    with pytest.raises(pytest.skip.Exception, match="make system-deps"):
        require_integration_tools()


# --- the registry server ---


@pytest.mark.integration
def test_registry_server_stops_even_when_the_block_fails(tmp_path: Path) -> None:
    server = RegistryServer(tmp_path)

    def failing_test() -> None:
        with server:
            assert httpx.get(f"{server.url}/v2/", trust_env=False).status_code == 200
            raise RuntimeError("test failed")

    with pytest.raises(RuntimeError, match="test failed"):
        failing_test()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{server.url}/v2/", trust_env=False)


@pytest.mark.integration
def test_registry_server_that_cannot_start_reports_its_log(tmp_path: Path) -> None:
    tls = issue_tls(tmp_path / "tls")
    tls.key_path.unlink()
    with pytest.raises(RegistryStartError, match=r"exited at start:\n.*server\.key"):
        RegistryServer(tmp_path / "server", tls=tls).start()


@pytest.mark.parametrize("kind", KINDS)
def test_pushed_manifests_are_served_byte_for_byte(
    kind: str, registry: RegistryServer, repo: str, images: ImageFactory
) -> None:
    image = images.build(kind)
    push(registry.address, repo, "v1", image)
    for manifest in image.manifests():
        ref = f"docker://{registry.address}/{repo}@{manifest.digest}"
        assert skopeo("inspect", "--raw", "--tls-verify=false", ref) == manifest.manifest_bytes
    raw = skopeo("inspect", "--raw", "--tls-verify=false", f"docker://{registry.address}/{repo}:v1")
    assert raw == image.manifest_bytes
    assert head_digest(registry.address, repo, "v1") == sha256(raw)
    assert get_manifest_bytes(registry.address, repo, "v1") == raw


def test_head_digest_of_an_absent_tag_is_none(registry: RegistryServer, repo: str) -> None:
    assert head_digest(registry.address, repo, "never-pushed") is None


# --- make bench: the capacity run and the latency relay ---


@pytest.mark.integration
def test_the_capacity_run_sends_the_work_and_checks_each_answer(
    registry: RegistryServer, repo: str, images: ImageFactory
) -> None:
    image = images.oci()
    push(registry.address, repo, "build-1", image)
    capacity = Capacity(registry.address, concurrency=2)
    capacity.run(apply_work({repo: image}, ["t1", "t2", "t3"]))
    assert head_digest(registry.address, repo, "t3") == image.digest
    capacity.run(plan_work({repo: image}, ["t1", "t2", "t3"]))
    with pytest.raises(CapacityError, match=f"HEAD /v2/{repo}/manifests/t4: 404, not 200"):
        capacity.run(plan_work({repo: image}, ["t4"]))


@pytest.mark.integration
def test_the_relay_passes_everything_a_round_trip_later(
    registry: RegistryServer, repo: str, images: ImageFactory
) -> None:
    image = images.docker()
    with LatencyRelay(registry.address, 0.05) as relay:
        start = time.perf_counter()
        push(relay.address, repo, "v1", image)
        assert head_digest(relay.address, repo, "v1") == image.digest
        assert get_manifest_bytes(relay.address, repo, "v1") == image.manifest_bytes
        took = time.perf_counter() - start
    assert took >= 3 * (0.05 * 2 + 0.05 * 2)  # three connections: a handshake and a request each


# --- the secure registry ---


def test_secure_registry_serves_clients_that_trust_its_ca_and_log_in(
    secure_registry: SecureRegistry, repo: str, images: ImageFactory
) -> None:
    image = images.index()
    reg = secure_registry
    push(reg.address, repo, "v1", image, ca_path=reg.ca_path, auth=reg.auth)
    assert (reg.certs_d / reg.address / "ca.crt").read_bytes() == reg.ca_path.read_bytes()
    creds = f"{reg.username}:{reg.password}"
    ref = f"docker://{reg.address}/{repo}:v1"
    assert skopeo("inspect", "--raw", "--cert-dir", str(reg.cert_dir), "--creds", creds, ref) == (
        image.manifest_bytes
    )
    assert head_digest(reg.address, repo, "v1", ca_path=reg.ca_path, auth=reg.auth) == image.digest


@pytest.mark.parametrize("auth", [None, ("tagmgr-test", "wrong"), ("nobody", "x")])
def test_secure_registry_rejects_missing_or_wrong_credentials(
    secure_registry: SecureRegistry, auth: tuple[str, str] | None
) -> None:
    response = httpx.get(
        f"{secure_registry.url}/v2/",
        auth=httpx.BasicAuth(*auth) if auth else None,
        verify=ssl_context(secure_registry.ca_path),
        trust_env=False,
    )
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Basic realm="tagmgr-test"'


def test_secure_registry_rejects_clients_that_do_not_trust_its_ca(
    secure_registry: SecureRegistry,
) -> None:
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        httpx.get(f"{secure_registry.url}/v2/", auth=secure_registry.auth, trust_env=False)
    creds = ":".join(secure_registry.auth)
    result = run_skopeo(
        "inspect", "--raw", "--creds", creds, f"docker://{secure_registry.address}/a:1"
    )
    assert result.returncode != 0
    assert b"x509: certificate signed by unknown authority" in result.stderr


# --- OCI layouts ---


@pytest.mark.integration
@pytest.mark.parametrize("kind", OCI_KINDS)
def test_oci_layout_round_trips_through_skopeo(
    kind: str, tmp_path: Path, images: ImageFactory
) -> None:
    image = images.build(kind)
    layout = write_oci_layout(image, tmp_path / "layout", ref="v1")
    assert skopeo("inspect", "--raw", f"oci:{layout}:v1") == image.manifest_bytes
    if image.media_type == OCI_MANIFEST:
        inspected = json.loads(skopeo("inspect", f"oci:{layout}:v1"))
        assert inspected["Digest"] == image.digest
        assert inspected["Layers"] == [ref["digest"] for ref in blob_references(image)[1:]]


def test_oci_layout_is_complete_enough_for_skopeo_copy(
    tmp_path: Path, registry: RegistryServer, repo: str, images: ImageFactory
) -> None:
    image = images.index()
    assert image.media_type == OCI_INDEX
    layout = write_oci_layout(image, tmp_path / "layout")
    destination = f"docker://{registry.address}/{repo}:v1"
    skopeo(
        "copy",
        "--all",
        "--preserve-digests",
        "--dest-tls-verify=false",
        f"oci:{layout}:latest",
        destination,
    )
    assert head_digest(registry.address, repo, "v1") == image.digest
    for child in image.children:
        assert get_manifest_bytes(registry.address, repo, child.digest) == child.manifest_bytes
