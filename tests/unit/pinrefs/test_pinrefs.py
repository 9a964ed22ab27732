"""pin-refs from a lock file: exact diffs, exact edits, every other byte left as it was."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tagmgr.lock import Lock, LockEntry, write_lock
from tagmgr.oci.reference import ImageReference
from tests.support.e2e import run_tagmgr

SRIOV, GPU = "docker.io/starlingx/k8s-cni-sriov", "docker.io/starlingx/intel-gpu-plugin"
SRIOV_BUILD, GPU_BUILD = (
    "master-centos-stable-20191203T153530Z.0",
    "master-distroless-stable-20191203T153530Z.0",
)
SRIOV_TAG, GPU_TAG = "stx.4.0-v2.2", "stx.4.0-v0.11.0-103-g4f28657"
SRIOV_DIGEST, GPU_DIGEST = "sha256:" + "1" * 64, "sha256:" + "2" * 64

HELM = """\
# Default values for the chart.
sriov:
  image: "starlingx/k8s-cni-sriov:master-centos-stable-latest"  # floating, pin it
  notes: |
    image: starlingx/k8s-cni-sriov:master-centos-stable-latest
    stays as written: a block scalar is text
gpu:
  image:
    registry: docker.io
    repository: starlingx/intel-gpu-plugin   # the split form
    tag: master-distroless-stable-20191203T153530Z.0

    digest: ""
  sidecar: {registry: docker.io, repository: starlingx/intel-gpu-plugin, tag: 'latest'}
defaults: &defaults
  pullPolicy: IfNotPresent
web:
  <<: *defaults
  image: nginx:1.25
"""

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: sriov
spec:
  template:
    spec:
      initContainers:
      - name: init
        image: docker.io/starlingx/intel-gpu-plugin:master-distroless-stable-20191203T153530Z.0
      containers:
      - name: cni
        image: 'docker.io/starlingx/k8s-cni-sriov:master-centos-stable-latest'
        args: ["--image", "starlingx/k8s-cni-sriov:latest"]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: other}
"""

COMPOSE = """\
services:
  cni:
    image: starlingx/k8s-cni-sriov   # no tag: floating
    build: .
  web:
    image: nginx:1.25
"""

DOCKERFILE = (
    "# syntax=docker/dockerfile:1\r\n"
    "FROM --platform=$BUILDPLATFORM docker.io/starlingx/k8s-cni-sriov:"
    "master-centos-stable-20191203T153530Z.0 AS build\r\n"
    "RUN make\r\n"
    "\r\n"
    "FROM scratch\r\n"
    "COPY --from=build /out /out\r\n"
    "COPY --from=starlingx/intel-gpu-plugin:latest /bin/plugin /plugin\r\n"
)


@pytest.fixture
def lock_path(tmp_path: Path) -> Path:
    def entry(name: str, build: str, tag: str, digest: str) -> LockEntry:
        return LockEntry(
            ImageReference.parse(f"{name}:{build}"),
            ImageReference.parse(f"{name}:{tag}"),
            digest,
            "application/vnd.oci.image.index.v1+json",
            "2026-12-01T10:00:00Z",
        )

    path = tmp_path / "tagmgr.lock"
    lock = [
        entry(SRIOV, SRIOV_BUILD, SRIOV_TAG, SRIOV_DIGEST),
        entry(GPU, GPU_BUILD, GPU_TAG, GPU_DIGEST),
    ]
    write_lock(path, Lock.of(lock))
    return path


GATE = ("--dry-run", "--detailed-exitcode")  # a CI check that files are pinned: 2 if not
DRY_RUN = "tagmgr: dry run: nothing was changed\n"


def write(path: Path, text: str) -> Path:
    path.write_bytes(text.encode())
    return path


def test_helm_values_both_forms_diff_exactly(
    tmp_path: Path, lock_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    values = write(tmp_path / "values.yaml", HELM)
    result = run_tagmgr(capsys, "pin-refs", "--lock", lock_path, *GATE, values)
    assert (result.code, result.err) == (2, DRY_RUN)
    assert result.out == (
        f"--- a/{values}\n"
        f"+++ b/{values}\n"
        "@@ -1,6 +1,6 @@\n"
        " # Default values for the chart.\n"
        " sriov:\n"
        '-  image: "starlingx/k8s-cni-sriov:master-centos-stable-latest"  # floating, pin it\n'
        '+  image: "starlingx/k8s-cni-sriov:stx.4.0-v2.2"  # floating, pin it\n'
        "   notes: |\n"
        "     image: starlingx/k8s-cni-sriov:master-centos-stable-latest\n"
        "     stays as written: a block scalar is text\n"
        "@@ -8,10 +8,10 @@\n"
        "   image:\n"
        "     registry: docker.io\n"
        "     repository: starlingx/intel-gpu-plugin   # the split form\n"
        "-    tag: master-distroless-stable-20191203T153530Z.0\n"
        "+    tag: stx.4.0-v0.11.0-103-g4f28657\n"
        " \n"
        '     digest: ""\n'
        "-  sidecar: {registry: docker.io, repository: starlingx/intel-gpu-plugin, tag: 'latest'}\n"
        "+  sidecar: {registry: docker.io, repository: starlingx/intel-gpu-plugin,"
        " tag: 'stx.4.0-v0.11.0-103-g4f28657'}\n"
        " defaults: &defaults\n"
        "   pullPolicy: IfNotPresent\n"
        " web:\n"
    )
    assert values.read_text() == HELM  # a diff only


def test_digest_pins_the_index_digest_into_both_forms(
    tmp_path: Path, lock_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    values = write(tmp_path / "values.yaml", HELM)
    result = run_tagmgr(capsys, "pin-refs", "--lock", lock_path, "--digest", "--write", values)
    assert (result.code, result.out) == (0, f"{values}: 3 references pinned\n")
    assert values.read_text() == (
        HELM.replace(
            'k8s-cni-sriov:master-centos-stable-latest"',
            f'k8s-cni-sriov:{SRIOV_TAG}@{SRIOV_DIGEST}"',
        )
        .replace(f"tag: {GPU_BUILD}", f"tag: {GPU_TAG}")
        .replace('digest: ""', f'digest: "{GPU_DIGEST}"')
        .replace("tag: 'latest'", f"tag: '{GPU_TAG}@{GPU_DIGEST}'")
    )


def test_deployment_compose_and_crlf_dockerfile_change_only_their_references(
    tmp_path: Path, lock_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    deployment = write(tmp_path / "deploy.yaml", DEPLOYMENT)
    compose = write(tmp_path / "compose.yml", COMPOSE)
    dockerfile = write(tmp_path / "Dockerfile", DOCKERFILE)
    result = run_tagmgr(
        capsys, "pin-refs", "--lock", lock_path, "--write", deployment, compose, dockerfile
    )
    assert result.code == 0, result.err
    assert deployment.read_text() == DEPLOYMENT.replace(
        f"intel-gpu-plugin:{GPU_BUILD}", f"intel-gpu-plugin:{GPU_TAG}"
    ).replace(
        "'docker.io/starlingx/k8s-cni-sriov:master-centos-stable-latest'",
        f"'docker.io/starlingx/k8s-cni-sriov:{SRIOV_TAG}'",
    )
    assert compose.read_text() == COMPOSE.replace(
        "starlingx/k8s-cni-sriov   #", f"starlingx/k8s-cni-sriov:{SRIOV_TAG}   #"
    )
    assert (
        dockerfile.read_bytes()
        == DOCKERFILE.replace(
            f"k8s-cni-sriov:{SRIOV_BUILD} AS build", f"k8s-cni-sriov:{SRIOV_TAG} AS build"
        )
        .replace("intel-gpu-plugin:latest", f"intel-gpu-plugin:{GPU_TAG}")
        .encode()
    )
    again = run_tagmgr(capsys, "pin-refs", "--lock", lock_path, deployment, compose, dockerfile)
    assert (again.code, again.out) == (0, "")


def test_crlf_helm_values_keep_every_line_ending(
    tmp_path: Path, lock_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    crlf = HELM.replace("\n", "\r\n")
    values = write(tmp_path / "values.yaml", crlf)
    result = run_tagmgr(capsys, "pin-refs", "--lock", lock_path, "--write", values)
    assert result.code == 0, result.err
    assert (
        values.read_bytes()
        == crlf.replace('master-centos-stable-latest"', f'{SRIOV_TAG}"')
        .replace(f"tag: {GPU_BUILD}", f"tag: {GPU_TAG}")
        .replace("tag: 'latest'", f"tag: '{GPU_TAG}'")
        .encode()
    )


def test_references_that_cannot_be_resolved_are_listed_not_guessed(
    tmp_path: Path, lock_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (
        "image: starlingx/k8s-cni-sriov:v9.9\nnotes: see docker.io/starlingx/intel-gpu-plugin:old\n"
    )
    values = write(tmp_path / "values.yaml", text)
    readme = write(tmp_path / "README.md", "Run docker.io/starlingx/intel-gpu-plugin:old first.\n")
    result = run_tagmgr(capsys, "pin-refs", "--lock", lock_path, "--write", values, readme)
    assert (result.code, result.out) == (1, "")
    assert result.err == (
        f"{readme}:1:5: docker.io/starlingx/intel-gpu-plugin:old: tag 'old' is neither a build tag"
        f" nor a stable tag of {GPU} ({GPU_TAG})\n"
        f"{values}:1:8: starlingx/k8s-cni-sriov:v9.9: tag 'v9.9' is neither a build tag nor a"
        f" stable tag of {SRIOV} ({SRIOV_TAG})\n"
    )
    assert values.read_text() == text


def test_directories_are_walked_with_gitignore_respected(
    tmp_path: Path, lock_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    chart = tmp_path / "chart"
    (chart / "build").mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(chart)], check=True)  # noqa: S607
    write(chart / ".gitignore", "build/\n")
    write(chart / "values.yaml", COMPOSE)
    write(chart / "build" / "values.yaml", COMPOSE)
    result = run_tagmgr(capsys, "pin-refs", "--lock", lock_path, *GATE, chart)
    assert result.code == 2
    assert [line for line in result.out.splitlines() if line.startswith("---")] == [
        f"--- a/{chart / 'values.yaml'}"
    ]


def test_without_a_yes_nothing_is_written_and_the_run_fails(
    tmp_path: Path, lock_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """No terminal (pytest's stdin) and no --yes: the diff, no edit, exit 1."""
    values = write(tmp_path / "values.yaml", HELM)
    dry = run_tagmgr(capsys, "pin-refs", "--lock", lock_path, "--dry-run", values)
    forgot = run_tagmgr(capsys, "pin-refs", "--lock", lock_path, values)
    assert (forgot.code, forgot.out) == (1, dry.out)
    assert forgot.err == (
        "tagmgr: error: not confirmed, and no terminal to ask on: nothing was changed; give"
        " --yes to pin them, or --dry-run to only show it\n"
    )
    assert values.read_bytes() == HELM.encode()


def test_deployment_compose_and_dockerfile_diffs_are_exact(
    tmp_path: Path, lock_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    deployment = write(tmp_path / "deploy.yaml", DEPLOYMENT)
    compose = write(tmp_path / "compose.yml", COMPOSE)
    dockerfile = write(tmp_path / "Dockerfile", DOCKERFILE)
    result = run_tagmgr(capsys, "pin-refs", "--lock", lock_path, *GATE, tmp_path)
    assert (result.code, result.err) == (2, DRY_RUN)
    assert result.out == (
        f"--- a/{dockerfile}\n"
        f"+++ b/{dockerfile}\n"
        "@@ -1,7 +1,7 @@\n"
        " # syntax=docker/dockerfile:1\r\n"
        f"-FROM --platform=$BUILDPLATFORM {SRIOV}:{SRIOV_BUILD} AS build\r\n"
        f"+FROM --platform=$BUILDPLATFORM {SRIOV}:{SRIOV_TAG} AS build\r\n"
        " RUN make\r\n"
        " \r\n"
        " FROM scratch\r\n"
        " COPY --from=build /out /out\r\n"
        "-COPY --from=starlingx/intel-gpu-plugin:latest /bin/plugin /plugin\r\n"
        f"+COPY --from=starlingx/intel-gpu-plugin:{GPU_TAG} /bin/plugin /plugin\r\n"
        f"--- a/{compose}\n"
        f"+++ b/{compose}\n"
        "@@ -1,6 +1,6 @@\n"
        " services:\n"
        "   cni:\n"
        "-    image: starlingx/k8s-cni-sriov   # no tag: floating\n"
        f"+    image: starlingx/k8s-cni-sriov:{SRIOV_TAG}   # no tag: floating\n"
        "     build: .\n"
        "   web:\n"
        "     image: nginx:1.25\n"
        f"--- a/{deployment}\n"
        f"+++ b/{deployment}\n"
        "@@ -7,10 +7,10 @@\n"
        "     spec:\n"
        "       initContainers:\n"
        "       - name: init\n"
        f"-        image: {GPU}:{GPU_BUILD}\n"
        f"+        image: {GPU}:{GPU_TAG}\n"
        "       containers:\n"
        "       - name: cni\n"
        f"-        image: '{SRIOV}:master-centos-stable-latest'\n"
        f"+        image: '{SRIOV}:{SRIOV_TAG}'\n"
        '         args: ["--image", "starlingx/k8s-cni-sriov:latest"]\n'
        " ---\n"
        " apiVersion: v1\n"
    )


def test_a_digest_after_a_plain_tag_keeps_it_plain(
    tmp_path: Path, lock_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """docs/commands/pin-refs.md: quoting stays byte for byte. ``tag: v1`` becomes
    ``tag: v1@sha256:...``, plain, as YAML 1.1 and 1.2 both read it as text."""
    text = f"image:\n  repository: starlingx/intel-gpu-plugin\n  tag: {GPU_BUILD}  # build\n"
    values = write(tmp_path / "values.yaml", text)
    result = run_tagmgr(capsys, "pin-refs", "--lock", lock_path, "--digest", "--write", values)
    assert result.code == 0, result.err
    assert values.read_text() == text.replace(GPU_BUILD, f"{GPU_TAG}@{GPU_DIGEST}")


def test_a_chart_s_templates_are_passed_over_its_values_pinned(
    tmp_path: Path, lock_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A template expression is filled in from the values, which are what pin-refs pins."""
    chart = tmp_path / "chart"
    (chart / "templates").mkdir(parents=True)
    write(chart / "values.yaml", "image: starlingx/k8s-cni-sriov:latest\n")
    write(
        chart / "templates" / "deploy.yaml",
        'spec:\n  containers:\n  - image: "{{ .Values.image }}"\n'
        "{{- if .Values.sidecar }}\n  - image: {{ .Values.sidecar }}\n{{- end }}\n",
    )
    result = run_tagmgr(capsys, "pin-refs", "--lock", lock_path, "--write", chart)
    assert (result.code, result.err) == (0, "")
    assert (chart / "values.yaml").read_text() == f"image: starlingx/k8s-cni-sriov:{SRIOV_TAG}\n"
