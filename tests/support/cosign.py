"""cosign's key-based signatures, made in Python as cosign makes them, with keys the tests generate.

Written from cosign's signature specification, not from tagmgr: a simple-signing payload naming
the image's digest, signed with ECDSA P-256 over SHA-256 (ASN.1 DER, base64), stored as a layer of
an OCI image manifest with the signature in the layer annotation, tagged ``sha256-<hex>.sig``.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from tests.support.oci import OCI, OCI_MANIFEST, Image, descriptor, sha256

PAYLOAD_TYPE = "application/vnd.dev.cosign.simplesigning.v1+json"
SIGNATURE_KEY = "dev.cosignproject.cosign/signature"


def new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def write_public_key(path: Path, *keys: ec.EllipticCurvePrivateKey) -> Path:
    """The public halves of ``keys`` as PEM, one after another, as ``cosign.pub`` holds one."""
    path.write_bytes(
        b"".join(
            key.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            for key in keys
        )
    )
    return path


def payload(reference: str, digest: str) -> bytes:
    """The simple-signing payload cosign signs for ``reference@digest``."""
    document = {
        "critical": {
            "identity": {"docker-reference": reference},
            "image": {"docker-manifest-digest": digest},
            "type": "cosign container image signature",
        },
        "optional": None,
    }
    return json.dumps(document, separators=(",", ":")).encode()


def sign(key: ec.EllipticCurvePrivateKey, data: bytes) -> str:
    return base64.b64encode(key.sign(data, ec.ECDSA(hashes.SHA256()))).decode()


def signature_tag(digest: str) -> str:
    return digest.replace(":", "-") + ".sig"


def signature_image(signatures: Sequence[tuple[bytes, str]]) -> Image:
    """The manifest cosign pushes: one layer per (payload, base64 signature)."""
    payloads = [data for data, _ in signatures]
    config = json.dumps(
        {
            "architecture": "",
            "created": "0001-01-01T00:00:00Z",
            "history": [{"created": "0001-01-01T00:00:00Z"}],
            "os": "",
            "rootfs": {"type": "layers", "diff_ids": [sha256(data) for data in payloads]},
            "config": {},
        }
    ).encode()
    layers = [
        {**descriptor(PAYLOAD_TYPE, data), "annotations": {SIGNATURE_KEY: signed}}
        for data, signed in signatures
    ]
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": descriptor(OCI.config, config),
        "layers": layers,
    }
    blobs = {sha256(blob): blob for blob in [config, *payloads]}
    return Image(OCI_MANIFEST, json.dumps(manifest).encode(), blobs)


def signed_by(reference: str, digest: str, *keys: ec.EllipticCurvePrivateKey) -> tuple[str, Image]:
    """The tag and manifest of ``reference@digest`` signed by each of ``keys``."""
    data = payload(reference, digest)
    return signature_tag(digest), signature_image([(data, sign(key, data)) for key in keys])
