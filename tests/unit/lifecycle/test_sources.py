"""In-use sources: manifests, Kubernetes, compose and Helm files, each record saying where."""

from __future__ import annotations

from pathlib import Path

import pytest

from tagmgr.errors import DocumentError
from tagmgr.lifecycle.sources import read_in_use

DIGEST = "sha256:" + "d" * 64


def test_kubernetes_compose_and_helm_files_name_their_images(tmp_path: Path) -> None:
    deployment = tmp_path / "deploy.yaml"
    deployment.write_text(
        "apiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n    spec:\n"
        "      containers:\n      - name: web\n"
        f"        image: 127.0.0.1:5000/team/web@{DIGEST}\n"
        "---\napiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - image: nginx:1.25\n"
        "  - image: redis\n"
    )
    compose = tmp_path / "compose.yaml"
    compose.write_text(
        "x-base: &base\n  image: 127.0.0.1:5000/team/db:v2\nservices:\n  db: *base\n"
    )
    values = tmp_path / "values.yaml"
    values.write_text("image:\n  registry: 127.0.0.1:5000\n  repository: team/api\n  tag: 1.10\n")
    uses = read_in_use([str(deployment), str(compose), str(values)])
    assert [u.where for u in uses.uses_of_digest("127.0.0.1:5000", "team/web", DIGEST)] == [
        f"{deployment}:8:16: spec.template.spec.containers[0].image"
    ]
    assert uses.uses_of_tag("docker.io", "library/nginx", "1.25")
    assert uses.uses_of_tag("docker.io", "library/redis", "latest")
    # An alias is the value it names: one reference, where it is written.
    assert [u.where for u in uses.uses_of_tag("127.0.0.1:5000", "team/db", "v2")] == [
        f"{compose}:2:10: x-base.image"
    ]
    assert uses.uses_of_tag("127.0.0.1:5000", "team/api", "1.10")


def test_a_manifest_names_sources_and_targets(tmp_path: Path) -> None:
    manifest = tmp_path / "images.yaml"
    manifest.write_text(
        "images:\n- name: 127.0.0.1:5000/team/app\n  src_build_tag: build-7\n  tag: v1.0\n"
    )
    uses = read_in_use([str(manifest)])
    assert [u.where for u in uses.uses_of_tag("127.0.0.1:5000", "team/app", "build-7")] == [
        f"{manifest}:2:3: images[0] (source)"
    ]
    assert [u.where for u in uses.uses_of_tag("127.0.0.1:5000", "team/app", "v1.0")] == [
        f"{manifest}:2:3: images[0] (target)"
    ]


def test_unreadable_images_and_empty_files_are_errors(tmp_path: Path) -> None:
    template = tmp_path / "chart.yaml"
    template.write_text('spec:\n  image: "{{ .Values.image }}"\n')
    empty = tmp_path / "empty.yaml"
    empty.write_text("kind: ConfigMap\n")
    with pytest.raises(DocumentError) as error:
        read_in_use([str(template), str(empty), "kube://cluster"])
    assert str(error.value) == "\n".join(
        [
            f"{template}:2:10: spec.image: a template, not an image reference:"
            " render it first (helm template)",
            f"{empty}:1:1: read as a file of image references, it names no image;"
            " is it the right file?",
            "kube://cluster:1:1: unknown in-use source scheme kube:// (known: docker://)",
        ]
    )


def test_a_lock_file_names_targets_sources_and_children_by_digest(tmp_path: Path) -> None:
    child = "sha256:" + "c" * 64
    lock = tmp_path / "images.lock.json"
    lock.write_text(
        '{"entries": [{"digest": "' + DIGEST + '", "media_type":'
        ' "application/vnd.oci.image.index.v1+json", "platforms": [{"digest": "' + child + '",'
        ' "platform": "linux/amd64"}], "resolved_at": "2026-12-01T23:40:00Z", "source":'
        ' "127.0.0.1:5000/team/app:build-7", "target": "127.0.0.1:5000/team/app:v1.0"}],'
        ' "format": "tagmgr.lock/v1"}\n'
    )
    uses = read_in_use([str(lock)])
    assert [u.where for u in uses.uses_of_digest("127.0.0.1:5000", "team/app", DIGEST)] == [
        f"{lock}: 127.0.0.1:5000/team/app:build-7",
        f"{lock}: 127.0.0.1:5000/team/app:v1.0",
    ]
    assert uses.uses_of_digest("127.0.0.1:5000", "team/app", child)


def test_a_pod_list_goes_to_the_pod_reader(tmp_path: Path) -> None:
    pods = tmp_path / "pods.json"
    pods.write_text(
        '{"kind": "List", "items": [{"kind": "Pod", "metadata": {"namespace": "default",'
        ' "name": "web"}, "spec": {"containers": [{"name": "app",'
        ' "image": "127.0.0.1:5000/team/web:v1"}]}, "status": {"containerStatuses": [{"name":'
        ' "app", "image": "127.0.0.1:5000/team/web:v1",'
        f' "imageID": "127.0.0.1:5000/team/web@{DIGEST}"'
        "}]}}]}\n"
    )
    uses = read_in_use([str(pods)])
    assert uses.uses_of_digest("127.0.0.1:5000", "team/web", DIGEST)
    assert uses.uses_of_tag("127.0.0.1:5000", "team/web", "v1")
