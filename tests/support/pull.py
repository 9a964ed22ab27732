"""Pull a tag whole with a real client (``skopeo copy --all`` to an OCI directory) and check it.

Every blob and manifest the layout holds must hash to its file name, and every digest any
manifest names must be there: a tag that pulls this way is complete, not just present.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

PULL_TIMEOUT = 60


def pull_whole(reference: str, directory: Path, *, authfile: Path | None = None) -> str:
    """Pull plain-HTTP ``reference`` (``HOST:PORT/repo:tag``) to ``directory``; return its digest.

    An OCI layout holds OCI media types only: skopeo converts a Docker manifest on the way (its
    digest then changes, its blobs do not), so callers compare the digest for OCI images only.
    """
    auth = [f"--src-authfile={authfile}"] if authfile else []
    argv = ["skopeo", "copy", "--all", "--quiet", "--src-tls-verify=false", *auth]
    result = subprocess.run(
        [*argv, f"docker://{reference}", f"oci:{directory}:pulled"],
        capture_output=True,
        timeout=PULL_TIMEOUT,
        check=False,
    )
    assert result.returncode == 0, f"skopeo copy {reference}: {result.stderr.decode()}"
    blobs = directory / "blobs" / "sha256"
    held = {}
    for path in blobs.iterdir():
        data = path.read_bytes()
        assert hashlib.sha256(data).hexdigest() == path.name, f"{path} is corrupt"
        held[f"sha256:{path.name}"] = data
    (top,) = json.loads((directory / "index.json").read_text())["manifests"]
    _check_complete(top["digest"], held)
    return str(top["digest"])


def _check_complete(digest: str, held: dict[str, bytes]) -> None:
    assert digest in held, f"{digest} is missing from the pulled layout"
    document = json.loads(held[digest])
    for child in document.get("manifests", []):
        _check_complete(child["digest"], held)
    for blob in [document.get("config"), *document.get("layers", [])]:
        if blob is not None:
            assert blob["digest"] in held, f"blob {blob['digest']} is missing"
