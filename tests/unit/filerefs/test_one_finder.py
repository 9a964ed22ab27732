"""pin-refs and ``expire --in-use`` find the same image references in the same files.

One corpus (Helm values in every split spelling, Kubernetes objects with init containers, a
CronJob and an image volume, a compose file, Dockerfiles, text) goes to pin-refs, run as a
command, and to in-use's reading. Both must name exactly the references listed here, at the
same places: an image pin-refs pins but expire does not protect could be deleted while a pinned
chart runs it (issue 18).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tagmgr.errors import DocumentError
from tagmgr.lifecycle.sources import read_source
from tagmgr.lock import Lock, LockEntry, write_lock
from tagmgr.oci.reference import ImageReference
from tests.support.e2e import GATE, run_tagmgr

CORPUS = {
    "chart/values.yaml": (
        "controller:\n"
        "  registry: registry.example.com\n"
        "  repository: ingress/controller\n"
        "  tag: v1.9.0\n"
        "web:\n"
        "  image:\n"
        "    registry: registry.example.com\n"
        "    repository: web/app\n"
        '    tag: "2.0"\n'
        "sidecar: {image: {registry: docker.io, repository: team/sidecar, tag: 'v3'}}\n"
        "tool:\n"
        "  image:\n"
        "    repository: team/tool\n"
        "    version: 1.4.2\n"
        "admission:\n"
        "  image:\n"
        "    registry: registry.k8s.io\n"
        "    image: ingress-nginx/kube-webhook-certgen\n"
        "    tag: v1.4.1\n"
        "cache:\n"
        "  image: redis:7.2\n"
    ),
    "k8s/workloads.yaml": (
        "apiVersion: apps/v1\n"
        "kind: Deployment\n"
        "spec:\n"
        "  template:\n"
        "    spec:\n"
        "      initContainers:\n"
        "      - name: migrate\n"
        "        image: registry.example.com/web/migrate:v7\n"
        "      containers:\n"
        "      - name: web\n"
        "        image: registry.example.com/web/app:2.0\n"
        "---\n"
        "apiVersion: batch/v1\n"
        "kind: CronJob\n"
        "spec:\n"
        "  jobTemplate:\n"
        "    spec:\n"
        "      template:\n"
        "        spec:\n"
        "          containers:\n"
        "          - image: busybox:1.36\n"
    ),
    "k8s/pod.yaml": (
        "apiVersion: v1\n"
        "kind: Pod\n"
        "metadata: {name: models}\n"
        "spec:\n"
        "  containers:\n"
        "  - name: serve\n"
        "    image: team/serve:v2\n"
        "  volumes:\n"
        "  - name: weights\n"
        "    image:\n"
        "      reference: registry.example.com/models/weights:v5\n"
    ),
    "compose.yaml": (
        "services:\n"
        "  debug:\n"
        "    build: .\n"
        "    image: app-local-debug\n"
        "  api:\n"
        "    build: api\n"
        "    image: registry.example.com/web/api:1.1\n"
        "  db:\n"
        "    image: postgres:16\n"
    ),
    "Dockerfile": (
        "\ufeff# syntax=docker/dockerfile:1.7\n"
        "ARG GO=golang:1.22\n"
        "FROM --platform=$BUILDPLATFORM ${GO} AS build\n"
        "RUN --mount=type=bind,from=team/assets:v4,target=/assets make\n"
        "FROM \\\n"
        "  gcr.io/distroless/static:nonroot\n"
        "COPY --from=build /out /app\n"
        "COPY --from=alpine:3.20 /etc/ssl /etc/ssl\n"
    ),
    "docs/README.md": (
        "Run `docker run registry.example.com/web/app:2.0` or, for the tools,\n"
        "registry.example.com/web/cli:0.9. Any word such as and/or: stays prose.\n"
    ),
}

# (file, line, column, reference as a runtime reads it): what both must find, and only this.
EXPECTED = {
    ("chart/values.yaml", 2, 3, "registry.example.com/ingress/controller:v1.9.0"),
    ("chart/values.yaml", 7, 5, "registry.example.com/web/app:2.0"),
    ("chart/values.yaml", 10, 18, "docker.io/team/sidecar:v3"),
    ("chart/values.yaml", 13, 5, "docker.io/team/tool:1.4.2"),
    ("chart/values.yaml", 17, 5, "registry.k8s.io/ingress-nginx/kube-webhook-certgen:v1.4.1"),
    ("chart/values.yaml", 21, 10, "docker.io/library/redis:7.2"),
    ("k8s/workloads.yaml", 8, 16, "registry.example.com/web/migrate:v7"),
    ("k8s/workloads.yaml", 11, 16, "registry.example.com/web/app:2.0"),
    ("k8s/workloads.yaml", 21, 20, "docker.io/library/busybox:1.36"),
    ("k8s/pod.yaml", 7, 12, "docker.io/team/serve:v2"),
    ("k8s/pod.yaml", 11, 18, "registry.example.com/models/weights:v5"),
    ("compose.yaml", 7, 12, "registry.example.com/web/api:1.1"),
    ("compose.yaml", 9, 12, "docker.io/library/postgres:16"),
    ("Dockerfile", 1, 10, "docker.io/docker/dockerfile:1.7"),
    ("Dockerfile", 2, 8, "docker.io/library/golang:1.22"),
    ("Dockerfile", 4, 28, "docker.io/team/assets:v4"),
    ("Dockerfile", 6, 3, "gcr.io/distroless/static:nonroot"),
    ("Dockerfile", 8, 13, "docker.io/library/alpine:3.20"),
    ("docs/README.md", 1, 17, "registry.example.com/web/app:2.0"),
    ("docs/README.md", 2, 1, "registry.example.com/web/cli:0.9"),
}


def write_corpus(root: Path) -> list[Path]:
    paths = []
    for name, text in CORPUS.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode())
        paths.append(path)
    return paths


def lock_pinning_everything(path: Path) -> Path:
    """A lock whose entries take every (repository, tag) of the corpus as a build tag, so
    pin-refs reports every reference it finds."""
    names = sorted({ImageReference.parse(ref) for *_, ref in EXPECTED})
    entries = [
        LockEntry(
            ref,
            ref.with_tag(f"pinned-{index}"),
            "sha256:" + "e" * 64,
            "application/vnd.oci.image.index.v1+json",
            "2026-12-01T10:00:00Z",
        )
        for index, ref in enumerate(names)
    ]
    write_lock(path, Lock.of(entries))
    return path


def test_pin_refs_and_in_use_find_the_same_references(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    corpus = tmp_path / "corpus"
    files = write_corpus(corpus)
    lock = lock_pinning_everything(tmp_path / "tagmgr.lock")

    result = run_tagmgr(capsys, "pin-refs", "--lock", lock, *GATE, "--output", "json", corpus)
    document = json.loads(result.out)
    assert (result.code, document["unresolvable"]) == (2, [])
    pinned = {
        (
            str(Path(c["file"]).relative_to(corpus)),
            c["line"],
            c["column"],
            str(_runtime(ImageReference.parse_familiar(c["from"]))),
        )
        for c in document["changes"]
    }

    in_use = set()
    for path in files:
        for record in read_source(str(path)):
            file, line, column, _ = record.where.split(":", 3)
            relative = str(Path(file).relative_to(corpus))
            in_use.add((relative, int(line), int(column), str(record.reference)))

    assert pinned == EXPECTED
    assert in_use == EXPECTED


def test_both_refuse_the_same_unreadable_places(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """What pin-refs lists as unresolvable, in-use refuses, at the same place; a template is
    pin-refs' to pass over (the chart's values are pinned) and in-use's to refuse."""
    (tmp_path / "Dockerfile").write_text("ARG BASE\nFROM $BASE\n")
    (tmp_path / "deploy.yaml").write_text('image: "{{ .Values.image }}"\nother:\n  image: ${X}\n')
    lock = lock_pinning_everything(tmp_path / "tagmgr.lock")
    result = run_tagmgr(capsys, "pin-refs", "--lock", lock, tmp_path)
    assert result.code == 1
    assert result.err.splitlines() == [
        f"{tmp_path / 'Dockerfile'}:2:6: $BASE: ARG BASE has no default: its value is given at"
        " build time",
        f"{tmp_path / 'deploy.yaml'}:3:10: ${{X}}: its value comes from a variable; tagmgr cannot"
        " tell which image it names",
    ]
    problems = []
    for name in ("Dockerfile", "deploy.yaml"):
        with pytest.raises(DocumentError) as refused:
            read_source(str(tmp_path / name))
        problems += [str(problem) for problem in refused.value.problems]
    assert problems == [
        f"{tmp_path / 'Dockerfile'}:2:6: FROM: ARG BASE has no default: its value is given at"
        " build time",
        f"{tmp_path / 'deploy.yaml'}:1:8: image: a template, not an image reference: render it"
        " first (helm template)",
        f"{tmp_path / 'deploy.yaml'}:3:10: other.image: its value comes from a variable; tagmgr"
        " cannot tell which image it names",
    ]


def _runtime(reference: ImageReference) -> ImageReference:
    return reference if reference.tag or reference.digest else reference.with_tag("latest")
