"""Verifying cosign signatures, from plain values: which public key files are refused and why, and
which payloads count as a signature of a digest."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from tagmgr.errors import ImageFormatError, TagmgrError
from tagmgr.lifecycle.signatures import (
    Signature,
    load_signer,
    read_signatures,
    unsigned,
    unsigned_reason,
)
from tests.support.cosign import new_key, payload, sign, signed_by, write_public_key
from tests.support.memory import MemoryRegistry
from tests.support.oci import Image, oci_index

DIGEST = "sha256:" + "a" * 64
NAME = "127.0.0.1:5000/team/app"
KEY = new_key()


def test_a_cosign_public_key_loads_and_a_file_may_hold_several(tmp_path: Path) -> None:
    one = load_signer(str(write_public_key(tmp_path / "cosign.pub", KEY)))
    assert len(one.keys) == 1
    two = load_signer(str(write_public_key(tmp_path / "rotated.pub", new_key(), KEY)))
    assert len(two.keys) == 2


def private_pem(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def public_pem(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            private_pem(KEY),
            "no PEM public key (-----BEGIN PUBLIC KEY-----) in it; give the public key"
            " (cosign.pub), never the private one",
        ),
        (
            public_pem(ec.generate_private_key(ec.SECP384R1())),
            "public key 1 is secp384r1; tagmgr verifies ECDSA P-256 keys (secp256r1), the scheme"
            " of cosign's signature specification and of cosign generate-key-pair",
        ),
        (
            public_pem(rsa.generate_private_key(65537, 2048)),
            "public key 1 is RSAPublicKey; tagmgr verifies ECDSA P-256 keys (secp256r1), the"
            " scheme of cosign's signature specification and of cosign generate-key-pair",
        ),
        (
            b"-----BEGIN PUBLIC KEY-----\nbm90IGEga2V5\n-----END PUBLIC KEY-----\n",
            "public key 1 does not load: ",
        ),
    ],
    ids=["private-key", "p384", "rsa", "garbage"],
)
def test_a_key_file_that_cannot_verify_is_refused_with_why(
    tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "key.pem"
    path.write_bytes(content)
    with pytest.raises(TagmgrError) as refused:
        load_signer(str(path))
    assert str(refused.value).startswith(f"{path}: {message}")
    assert b"PRIVATE" not in str(refused.value).encode()  # a private key is never echoed


def test_a_missing_key_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "missing.pub"
    with pytest.raises(TagmgrError) as refused:
        load_signer(str(path))
    assert str(refused.value) == f"{path}: cannot read the public key: No such file or directory"


def signed(data: bytes) -> Signature:
    return Signature(data, sign(KEY, data), ".sig layer 0")


def test_a_payload_counts_only_signed_of_that_digest_and_of_cosigns_type(
    tmp_path: Path,
) -> None:
    signer = load_signer(str(write_public_key(tmp_path / "cosign.pub", KEY)))
    pub = signer.path
    good = signed(payload(NAME, DIGEST))
    assert unsigned_reason(signer, DIGEST, [good]) is None
    other = "sha256:" + "b" * 64
    assert unsigned_reason(signer, other, [good]) == (
        f".sig layer 0: signed by {pub}, but for {DIGEST}, another image"
    )
    document = json.loads(payload(NAME, DIGEST))
    document["critical"]["type"] = "atomic container signature"
    assert unsigned_reason(signer, DIGEST, [signed(json.dumps(document).encode())]) == (
        f".sig layer 0: signed by {pub}, but its critical.type is 'atomic container signature'"
    )
    # Two readers of a key written twice could take either: refused, even when signed.
    twice = (
        b'{"critical":{"identity":{"docker-reference":"x"},"image":{"docker-manifest-digest":"'
        + other.encode()
        + b'","docker-manifest-digest":"'
        + DIGEST.encode()
        + b'"},"type":"cosign container image signature"},"optional":null}'
    )
    assert unsigned_reason(signer, DIGEST, [signed(twice)]) == (
        f".sig layer 0: signed by {pub}, but not a cosign simple-signing payload:"
        " 'docker-manifest-digest' is written twice"
    )
    # cosign's Go reader matches keys in any case; this one reads the key the spec spells.
    shouted = payload(NAME, DIGEST).replace(b"docker-manifest-digest", b"Docker-manifest-digest")
    assert unsigned_reason(signer, DIGEST, [signed(shouted)]) == (
        f".sig layer 0: signed by {pub}, but not a cosign simple-signing payload:"
        " no critical.image.docker-manifest-digest"
    )
    not_base64 = Signature(payload(NAME, DIGEST), "%%%", ".sig layer 1")
    assert unsigned_reason(signer, DIGEST, [not_base64]) == (
        ".sig layer 1: its signature is not base64"
    )
    # One good signature among bad ones is enough.
    assert unsigned_reason(signer, DIGEST, [not_base64, good]) is None
    assert unsigned_reason(signer, DIGEST, []) == "the signature tag holds no cosign signature"


def test_every_signer_must_have_signed(tmp_path: Path) -> None:
    ours = load_signer(str(write_public_key(tmp_path / "ours.pub", KEY)))
    theirs = load_signer(str(write_public_key(tmp_path / "theirs.pub", new_key())))
    found = [signed(payload(NAME, DIGEST))]
    assert unsigned([ours], DIGEST, found, NAME) == []
    assert unsigned([ours, theirs], DIGEST, found, NAME) == [
        f"no valid cosign signature by {theirs.path} (.sig layer 0: its signature does not"
        f" verify with {theirs.path})"
    ]
    tag = f"sha256-{'a' * 64}.sig"
    assert unsigned([ours], DIGEST, None, NAME) == [
        f"no valid cosign signature by {ours.path} (no signature tag {tag} in {NAME})"
    ]


def test_signatures_are_read_from_cosigns_tag_and_only_signed_payload_layers_count() -> None:
    registry = MemoryRegistry()
    assert read_signatures(registry, "team/app", DIGEST) is None
    data = payload(f"{NAME}@{DIGEST}", DIGEST)
    tag, image = signed_by(f"{NAME}@{DIGEST}", DIGEST, KEY)
    manifest = json.loads(image.manifest_bytes)
    unsigned_layer = {**manifest["layers"][0], "annotations": {}}
    other_type = {**manifest["layers"][0], "mediaType": "application/octet-stream"}
    manifest["layers"] = [unsigned_layer, other_type, manifest["layers"][0]]
    registry.push(
        "team/app", tag, Image(image.media_type, json.dumps(manifest).encode(), image.blobs)
    )
    [found] = read_signatures(registry, "team/app", DIGEST) or []
    assert (found.payload, found.where) == (data, f"{tag} layer 2")
    assert registry.requests.count(f"GET blob team/app:{manifest['layers'][2]['digest']}") == 1
    assert len([r for r in registry.requests if r.startswith("GET blob")]) == 1


def test_an_index_under_cosigns_tag_is_no_signature() -> None:
    registry = MemoryRegistry()
    tag, _ = signed_by(f"{NAME}@{DIGEST}", DIGEST, KEY)
    registry.push("team/app", tag, oci_index("not-a-signature"))
    with pytest.raises(ImageFormatError) as caught:
        read_signatures(registry, "team/app", DIGEST)
    assert str(caught.value) == (
        f"registry.example/team/app:{tag} is not an image manifest; cosign's signatures are one"
    )
