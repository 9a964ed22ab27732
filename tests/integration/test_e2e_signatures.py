"""The signature gate end to end: promote and rollback with ``--require-signature`` against a real
docker-registry, the images signed in cosign's format with keys the tests generate."""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from tests.support.cosign import (
    new_key,
    payload,
    sign,
    signature_image,
    signature_tag,
    signed_by,
    write_public_key,
)
from tests.support.e2e import run_tagmgr
from tests.support.oci import Image, ImageFactory
from tests.support.push import head_digest, push
from tests.support.registry import RegistryServer

pytestmark = pytest.mark.integration

KEY = new_key()
OTHER = new_key()


@pytest.fixture
def pub(tmp_path: Path) -> Path:
    return write_public_key(tmp_path / "cosign.pub", KEY)


def flip(signature: str) -> str:
    """The signature with one bit of its last byte changed: still base64, no longer valid."""
    raw = bytearray(base64.b64decode(signature))
    raw[-1] ^= 1
    return base64.b64encode(bytes(raw)).decode()


def good(name: str, image: Image, _other: Image) -> Image:
    return signed_by(name, image.digest, KEY)[1]


def wrong_key(name: str, image: Image, _other: Image) -> Image:
    return signed_by(name, image.digest, OTHER)[1]


def another_digest(name: str, _image: Image, other: Image) -> Image:
    return signed_by(name, other.digest, KEY)[1]  # a valid signature, of another image


def tampered_signature(name: str, image: Image, _other: Image) -> Image:
    data = payload(name, image.digest)
    return signature_image([(data, flip(sign(KEY, data)))])


def tampered_payload(name: str, image: Image, other: Image) -> Image:
    """The signature of a payload for ``image``, stored with a payload edited to name ``other``."""
    signature = sign(KEY, payload(name, image.digest))
    return signature_image([(payload(name, other.digest), signature)])


Signing = Callable[[str, Image, Image], Image]


def test_a_good_signature_lets_the_promotion_through(
    capsys: pytest.CaptureFixture[str],
    registry: RegistryServer,
    repo: str,
    images: ImageFactory,
    pub: Path,
) -> None:
    image, name = images.oci("signed"), f"{registry.address}/{repo}"
    push(registry.address, repo, "build-1", image)
    tag, signature = signed_by(name, image.digest, KEY)
    push(registry.address, repo, tag, signature)
    promoted = run_tagmgr(
        capsys, "promote", f"{name}:build-1", "--to", "dev", "--require-signature", pub, "--yes"
    )
    assert promoted.code == 0, promoted.err
    lines = promoted.out.splitlines()
    assert lines[0].startswith(f"promoted   {name}:dev -> {image.digest} (was nothing)")
    assert lines[2] == f"           signed (cosign) by {pub}"
    assert head_digest(registry.address, repo, "dev") == image.digest
    document = run_tagmgr(
        capsys, "promote", f"{name}:build-1", "--to", "dev", "--require-signature", pub,
        "--output", "json",
    )  # fmt: skip
    assert document.json()["promotion"]["signed_by"] == [str(pub)]


@pytest.mark.parametrize(
    ("signing", "reason"),
    [
        (wrong_key, "{tag} layer 0: its signature does not verify with {pub}"),
        (another_digest, "{tag} layer 0: signed by {pub}, but for {other}, another image"),
        (tampered_signature, "{tag} layer 0: its signature does not verify with {pub}"),
        (tampered_payload, "{tag} layer 0: its signature does not verify with {pub}"),
        (None, "no signature tag {tag} in {name}"),
    ],
    ids=["wrong-key", "another-digest", "tampered-signature", "tampered-payload", "missing"],
)
def test_without_a_valid_signature_the_promotion_is_refused_and_nothing_moves(
    capsys: pytest.CaptureFixture[str],
    registry: RegistryServer,
    repo: str,
    images: ImageFactory,
    pub: Path,
    signing: Signing | None,
    reason: str,
) -> None:
    image, other = images.oci("promoted"), images.oci("other")
    name = f"{registry.address}/{repo}"
    push(registry.address, repo, "build-1", image)
    push(registry.address, repo, "build-2", other)
    tag = signature_tag(image.digest)
    if signing is not None:
        push(registry.address, repo, tag, signing(name, image, other))
    for dry in (["--yes"], ["--dry-run"]):
        refused = run_tagmgr(
            capsys, "promote", f"{name}:build-1", "--to", "dev", "--require-signature", pub, *dry
        )
        why = reason.format(tag=tag, pub=pub, other=other.digest, name=name)
        assert (refused.code, refused.out) == (1, "")
        assert refused.err == (
            f"tagmgr: error: {name}@{image.digest}: no valid cosign signature by {pub}"
            f" ({why}); nothing moved\n"
        )
    assert head_digest(registry.address, repo, "dev") is None
    # Without the gate the same promotion goes through: the refusal was the signature's.
    assert run_tagmgr(capsys, "promote", f"{name}:build-1", "--to", "dev", "--yes").code == 0


def test_one_key_of_a_file_will_do_and_every_file_must_have_signed(
    capsys: pytest.CaptureFixture[str],
    registry: RegistryServer,
    repo: str,
    images: ImageFactory,
    tmp_path: Path,
) -> None:
    """A file with the old and the new key (a rotation): a signature by either counts. Two
    ``--require-signature`` options (a tester and a release pipeline): both must have signed."""
    image, name = images.oci("rotated"), f"{registry.address}/{repo}"
    rotated = write_public_key(tmp_path / "rotated.pub", OTHER, KEY)
    tester_key = new_key()
    tester = write_public_key(tmp_path / "tester.pub", tester_key)
    push(registry.address, repo, "build-1", image)
    tag, by_new_key = signed_by(name, image.digest, KEY)
    push(registry.address, repo, tag, by_new_key)

    def promote(*keys: Path) -> tuple[int, str]:
        required = [arg for key in keys for arg in ("--require-signature", str(key))]
        result = run_tagmgr(capsys, "promote", f"{name}:build-1", "--to", "dev", *required, "-y")
        return result.code, result.err

    assert promote(rotated)[0] == 0
    code, err = promote(rotated, tester)
    assert (code, err) == (
        1,
        f"tagmgr: error: {name}@{image.digest}: no valid cosign signature by {tester}"
        f" ({tag} layer 0: its signature does not verify with {tester}); nothing moved\n",
    )
    signers: tuple[ec.EllipticCurvePrivateKey, ...] = (KEY, tester_key)
    push(registry.address, repo, tag, signed_by(name, image.digest, *signers)[1])
    assert promote(rotated, tester) == (0, "")


def test_rollback_is_gated_too(
    capsys: pytest.CaptureFixture[str],
    registry: RegistryServer,
    repo: str,
    images: ImageFactory,
    pub: Path,
) -> None:
    signed, unsigned = images.oci("signed"), images.oci("unsigned")
    name = f"{registry.address}/{repo}"
    for tag, image in (("build-1", signed), ("build-2", unsigned)):
        push(registry.address, repo, tag, image)
    push(registry.address, repo, *signed_by(name, signed.digest, KEY))
    for tag in ("build-2", "build-1"):  # dev ran the unsigned build, then the signed one
        assert run_tagmgr(capsys, "promote", f"{name}:{tag}", "--to", "dev", "--yes").code == 0
    gated = ("--env", "dev", "--require-signature", pub, "--yes")
    refused = run_tagmgr(capsys, "rollback", name, *gated)
    assert refused.code == 1
    assert refused.err.startswith(
        f"tagmgr: error: {name}@{unsigned.digest}: no valid cosign signature by {pub}"
        f" (no signature tag {signature_tag(unsigned.digest)} in {name}); nothing moved"
    )
    assert head_digest(registry.address, repo, "dev") == signed.digest
    assert run_tagmgr(capsys, "promote", f"{name}:build-2", "--to", "dev", "--yes").code == 0
    rolled = run_tagmgr(capsys, "rollback", name, *gated)
    assert rolled.code == 0, rolled.err
    assert head_digest(registry.address, repo, "dev") == signed.digest


def test_a_private_key_given_by_mistake_is_refused_before_anything_is_read(
    capsys: pytest.CaptureFixture[str], registry: RegistryServer, repo: str, tmp_path: Path
) -> None:
    private = tmp_path / "cosign.key"
    private.write_bytes(
        KEY.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    name = f"{registry.address}/{repo}"
    refused = run_tagmgr(
        capsys, "promote", f"{name}:nothing", "--to", "dev", "--require-signature", private
    )
    assert (refused.code, refused.out) == (1, "")
    assert refused.err == (
        f"tagmgr: error: {private}: no PEM public key (-----BEGIN PUBLIC KEY-----) in it; give"
        " the public key (cosign.pub), never the private one\n"
    )
