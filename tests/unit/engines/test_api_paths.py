"""Which path an api-engine copy took, as ``-v`` says it: same repository, same registry (blobs
mounted), or another registry (blobs streamed or present)."""

from __future__ import annotations

import pytest

from tagmgr.engines.api import describe_path
from tagmgr.oci.reference import ImageReference

SOURCE = ImageReference.parse("registry.example/team/app@sha256:" + "a" * 64)


@pytest.mark.parametrize(
    ("destination", "done", "said"),
    [
        ("registry.example/team/app:v1", {}, "api engine, same repository: manifest PUT"),
        (
            "registry.example/team/release:v1",
            {"blobs mounted": 3, "blobs streamed": 1},
            "api engine, from team/app (same registry): 3 blobs mounted, 1 blobs streamed, "
            "manifest PUT",
        ),
        (
            "mirror.example/team/app:v1",
            {"child manifests PUT": 2, "blobs present": 4},
            "api engine, from registry.example: 4 blobs present, 2 child manifests PUT, "
            "manifest PUT",
        ),
    ],
)
def test_the_path_and_its_counts_in_one_line(
    destination: str, done: dict[str, int], said: str
) -> None:
    assert describe_path(SOURCE, ImageReference.parse(destination), done) == said
