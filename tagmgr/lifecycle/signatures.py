"""Key-based cosign signatures, verified as cosign's signature specification defines them.

cosign stores the signatures of ``repo@sha256:<hex>`` as one image manifest tagged
``sha256-<hex>.sig`` beside it. Each of its layers is one signature: the layer blob is the signed
payload, a simple-signing JSON document whose ``critical.image.docker-manifest-digest`` names the
image and whose ``critical.type`` is ``cosign container image signature``; the layer's annotation
``dev.cosignproject.cosign/signature`` holds the signature of exactly those payload bytes, base64
of an ASN.1 DER ECDSA signature over their SHA-256. Key-based signatures only (no certificate,
no transparency log): a public key is a PEM ``PUBLIC KEY`` of ECDSA P-256, the scheme the
specification requires, as ``cosign generate-key-pair`` writes it to ``cosign.pub``.

A ``Signer`` is one ``--require-signature KEY`` file: several keys in one file are alternatives
(a key rotation: any one of them will do), while several signers must all have signed. The
payload counts only once its signature verifies, and only for the digest it names.
``cryptography`` (the Python Cryptographic Authority's) does the ECDSA; nothing here is crypto.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from tagmgr.errors import ImageFormatError, TagmgrError
from tagmgr.lifecycle.survey import RepositoryReader
from tagmgr.oci.content import ImageManifest, parse_manifest, read_capped

SIMPLE_SIGNING = "application/vnd.dev.cosign.simplesigning.v1+json"
SIGNATURE_ANNOTATION = "dev.cosignproject.cosign/signature"
COSIGN_TYPE = "cosign container image signature"
MAX_KEY_FILE_BYTES = 64 * 1024
_PEM_PUBLIC_KEY = re.compile(rb"-----BEGIN PUBLIC KEY-----.+?-----END PUBLIC KEY-----", re.DOTALL)


@dataclass(frozen=True)
class Signer:
    """The public keys of one ``--require-signature`` file: a signature by any one counts."""

    path: str
    keys: tuple[ec.EllipticCurvePublicKey, ...]


@dataclass(frozen=True)
class Signature:
    """One layer of a ``.sig`` manifest: the payload and its base64 signature, as stored."""

    payload: bytes
    signature: str
    where: str  # "sha256-<hex>.sig layer 0", for messages


def signature_tag(digest: str) -> str:
    """``sha256:<hex>`` -> ``sha256-<hex>.sig``, cosign's tag for its signatures."""
    return digest.replace(":", "-", 1) + ".sig"


def load_signer(path: str) -> Signer:
    """The ECDSA P-256 public keys in the PEM file ``path``, or a ``TagmgrError``."""
    try:
        with Path(path).open("rb") as file:
            data = file.read(MAX_KEY_FILE_BYTES + 1)
    except OSError as error:
        raise TagmgrError(f"{path}: cannot read the public key: {error.strerror}") from None
    if len(data) > MAX_KEY_FILE_BYTES:
        raise TagmgrError(f"{path}: more than {MAX_KEY_FILE_BYTES} bytes; not a public key")
    blocks = _PEM_PUBLIC_KEY.findall(data)
    if not blocks:
        raise TagmgrError(
            f"{path}: no PEM public key (-----BEGIN PUBLIC KEY-----) in it; give the public key"
            " (cosign.pub), never the private one"
        )
    return Signer(path, tuple(_key(path, number, block) for number, block in enumerate(blocks)))


def _key(path: str, number: int, block: bytes) -> ec.EllipticCurvePublicKey:
    which = f"{path}: public key {number + 1}"
    try:
        key = load_pem_public_key(block)
    except (ValueError, UnsupportedAlgorithm) as error:
        raise TagmgrError(f"{which} does not load: {error}") from None
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        kind = key.curve.name if isinstance(key, ec.EllipticCurvePublicKey) else type(key).__name__
        raise TagmgrError(
            f"{which} is {kind}; tagmgr verifies ECDSA P-256 keys (secp256r1), the scheme of"
            " cosign's signature specification and of cosign generate-key-pair"
        )
    return key


def unsigned(
    signers: Sequence[Signer], digest: str, signatures: Sequence[Signature] | None, where: str
) -> list[str]:
    """Why ``digest`` is not signed by each of ``signers`` that did not sign it: all must have.
    ``signatures`` as ``read_signatures`` found them in the repository ``where``."""
    if signatures is None:
        missing = f"no signature tag {signature_tag(digest)} in {where}"
        return [f"no valid cosign signature by {signer.path} ({missing})" for signer in signers]
    return [
        f"no valid cosign signature by {signer.path} ({reason})"
        for signer in signers
        if (reason := unsigned_reason(signer, digest, signatures))
    ]


def unsigned_reason(signer: Signer, digest: str, signatures: Sequence[Signature]) -> str | None:
    """None when one of ``signatures`` is a valid signature of ``digest`` by one of the signer's
    keys; else why not, for each signature."""
    if not signatures:
        return "the signature tag holds no cosign signature"
    problems = [_problem(signer, digest, signature) for signature in signatures]
    if any(problem is None for problem in problems):
        return None
    return "; ".join(f"{s.where}: {p}" for s, p in zip(signatures, problems, strict=True))


def _problem(signer: Signer, digest: str, signature: Signature) -> str | None:
    try:
        der = base64.b64decode(signature.signature, validate=True)
    except (binascii.Error, ValueError):
        return "its signature is not base64"
    if not any(_verifies(key, der, signature.payload) for key in signer.keys):
        return f"its signature does not verify with {signer.path}"
    try:
        signed_type, signed_digest = _claims(signature.payload)
    except ValueError as error:
        return f"signed by {signer.path}, but not a cosign simple-signing payload: {error}"
    if signed_type != COSIGN_TYPE:
        return f"signed by {signer.path}, but its critical.type is {signed_type!r}"
    if signed_digest != digest:
        return f"signed by {signer.path}, but for {signed_digest}, another image"
    return None


def _verifies(key: ec.EllipticCurvePublicKey, der: bytes, payload: bytes) -> bool:
    try:
        key.verify(der, payload, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return False
    return True


def _claims(payload: bytes) -> tuple[object, object]:
    """``critical.type`` and ``critical.image.docker-manifest-digest``; ValueError if the
    payload is not JSON of that shape. A key written twice is refused: two readers could each
    take another one."""
    try:
        document = json.loads(payload, object_pairs_hook=_unique)
    except RecursionError:
        raise ValueError("nested too deep") from None
    critical = _object(document, "critical")
    image = _object(critical, "image")
    if "docker-manifest-digest" not in image:
        raise ValueError("no critical.image.docker-manifest-digest")
    return critical.get("type"), image["docker-manifest-digest"]


def _object(document: object, key: str) -> dict[str, object]:
    value = document.get(key) if isinstance(document, dict) else None
    if not isinstance(value, dict):
        raise ValueError(f"no {key} object")
    return value


def _unique(pairs: list[tuple[str, object]]) -> dict[str, object]:
    keys = [key for key, _ in pairs]
    twice = sorted({key for key in keys if keys.count(key) > 1})
    if twice:
        raise ValueError(f"{twice[0]!r} is written twice")
    return dict(pairs)


def read_signatures(
    client: RepositoryReader, repository: str, digest: str
) -> list[Signature] | None:
    """The signatures stored for ``digest`` in ``repository`` under cosign's tag; None when there
    is no such tag. Only layers with a signature annotation are read (their payload blobs)."""
    tag = signature_tag(digest)
    if client.head_manifest(repository, tag) is None:
        return None
    descriptor, content = client.get_manifest(repository, tag)
    what = f"{client.registry}/{repository}:{tag}"
    manifest = parse_manifest(content, descriptor.media_type, what)
    if not isinstance(manifest, ImageManifest):
        raise ImageFormatError(f"{what} is not an image manifest; cosign's signatures are one")
    found = []
    for number, layer in enumerate(manifest.layers):
        signature = layer.annotation(SIGNATURE_ANNOTATION)
        if layer.media_type != SIMPLE_SIGNING or signature is None:
            continue
        with client.open_blob(repository, layer.digest) as chunks:
            payload = read_capped(chunks, f"payload {layer.digest} of {what}")
        found.append(Signature(payload, signature, f"{tag} layer {number}"))
    return found
