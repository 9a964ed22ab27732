"""kubectl get pods -A -o json as an in-use source: what runs, by digest, located if unreadable."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tagmgr.errors import DocumentError
from tagmgr.lifecycle.inuse import InUse
from tagmgr.lifecycle.sources import read_in_use
from tagmgr.oci.reference import ImageReference

WEB = "sha256:" + "2" * 64
PROXY = "sha256:" + "3" * 64
MIGRATE = "sha256:" + "1" * 64


def pod(
    namespace: str, name: str, spec: dict[str, object], status: dict[str, object]
) -> dict[str, object]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": {"app": name}},
        "spec": spec,
        "status": {"phase": "Running", **status},
    }


def status(name: str, image: str, image_id: str) -> dict[str, object]:
    return {"name": name, "image": image, "imageID": image_id, "ready": True, "restartCount": 0}


RUNNING = pod(
    "shop",
    "web-7d4b9c",
    {
        "initContainers": [{"name": "migrate", "image": "127.0.0.1:5000/shop/migrate:v3"}],
        "containers": [
            {
                "name": "web",
                "image": "127.0.0.1:5000/shop/web:v1",
                "ports": [{"containerPort": 8080}],
            },
            {"name": "proxy", "image": "nginx:1.25"},
        ],
    },
    {
        "initContainerStatuses": [
            status(
                "migrate",
                "127.0.0.1:5000/shop/migrate:v3",
                f"docker-pullable://127.0.0.1:5000/shop/migrate@{MIGRATE}",
            )
        ],
        "containerStatuses": [
            status("web", "127.0.0.1:5000/shop/web:v1", f"127.0.0.1:5000/shop/web@{WEB}"),
            status("proxy", "docker.io/library/nginx:1.25", f"docker.io/library/nginx@{PROXY}"),
        ],
    },
)
WAITING = pod(
    "shop",
    "batch-x1",
    {"containers": [{"name": "job", "image": "127.0.0.1:5000/shop/job:v2"}]},
    {"containerStatuses": [status("job", "127.0.0.1:5000/shop/job:v2", "")]},
)


def pods_file(tmp_path: Path, *pods: dict[str, object]) -> Path:
    """What ``kubectl get pods -A -o json`` prints, four-space indented as kubectl does."""
    path = tmp_path / "pods.json"
    document = {
        "apiVersion": "v1",
        "items": list(pods),
        "kind": "List",
        "metadata": {"resourceVersion": ""},
    }
    path.write_text(json.dumps(document, indent=4) + "\n")
    return path


def test_running_digests_and_images_of_every_container_are_in_use(tmp_path: Path) -> None:
    path = pods_file(tmp_path, RUNNING, WAITING)
    found = read_in_use([str(path)])

    where = f"{path}: shop/web-7d4b9c"
    assert found.uses_of_digest("127.0.0.1:5000", "shop/web", WEB) == [
        InUse(ImageReference.parse(f"127.0.0.1:5000/shop/web@{WEB}"), f"{where}/web")
    ]
    assert found.uses_of_digest("127.0.0.1:5000", "shop/migrate", MIGRATE) == [
        InUse(ImageReference.parse(f"127.0.0.1:5000/shop/migrate@{MIGRATE}"), f"{where}/migrate")
    ]
    assert found.uses_of_digest("docker.io", "library/nginx", PROXY) == [
        InUse(ImageReference.parse(f"docker.io/library/nginx@{PROXY}"), f"{where}/proxy")
    ]
    # Every image: of the pods, as the finder of image references in files reads any file.
    assert [u.where for u in found.uses_of_tag("docker.io", "library/nginx", "1.25")] == [
        f"{path}:33:35: items[0].spec.containers[1].image",
        f"{path}:58:35: items[0].status.containerStatuses[1].image",
    ]
    # Not pulled yet (imageID empty): what the pod asks for is in use all the same.
    assert [u.where for u in found.uses_of_tag("127.0.0.1:5000", "shop/job", "v2")] == [
        f"{path}:80:35: items[1].spec.containers[0].image",
        f"{path}:89:35: items[1].status.containerStatuses[0].image",
    ]


def test_one_pods_json_counts_too(tmp_path: Path) -> None:
    path = tmp_path / "pod.json"
    path.write_text(json.dumps(RUNNING, indent=4))
    found = read_in_use([str(path)])
    assert [u.where for u in found.uses_of_digest("127.0.0.1:5000", "shop/web", WEB)] == [
        f"{path}: shop/web-7d4b9c/web"
    ]


def test_unreadable_images_are_located(tmp_path: Path) -> None:
    broken = json.loads(json.dumps(RUNNING))
    broken["status"]["containerStatuses"][0]["imageID"] = "127.0.0.1:5000/shop/web:v1"
    broken["status"]["containerStatuses"][1]["imageID"] = f"docker-pullable://Shop/Proxy@{PROXY}"
    broken["spec"]["containers"][1]["image"] = 42
    path = pods_file(tmp_path, broken)
    with pytest.raises(DocumentError) as failed:
        read_in_use([str(path)])

    assert str(failed.value).splitlines() == [
        f"{path}:33:34: items[0].spec.containers[1].image: not an image reference:"
        " YAML reads 42 as a number",
        f"{path}:52:36: items[0].status.containerStatuses[0].imageID: not an image reference by"
        " digest ('127.0.0.1:5000/shop/web:v1' names no digest)",
        f"{path}:59:36: items[0].status.containerStatuses[1].imageID: not an image reference by"
        f" digest ('Shop/Proxy@{PROXY}': path component 'Proxy' must be lowercase)",
    ]
