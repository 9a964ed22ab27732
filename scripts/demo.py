"""`make demo`: a local registry, from-scratch images, then validate, plan, apply and plan again.

Every image named by `manifests/*.yaml` gets its build tag pushed to a throw-away docker-registry
on 127.0.0.1 (Docker Hub names are mapped there with --map-registry), so the real tagmgr commands
run end to end without touching any real registry. A second part derives a tag with git describe
from a small upstream repository made on the spot.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import tempfile
from itertools import cycle
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tagmgr.manifest import load_manifests  # noqa: E402
from tagmgr.oci.reference import ImageReference  # noqa: E402
from tests.support.oci import KINDS  # noqa: E402
from tests.support.push import push  # noqa: E402
from tests.support.registry import RegistryServer  # noqa: E402

TAGMGR = str(Path(sys.executable).with_name("tagmgr"))


def main() -> int:
    files = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "manifests").glob("*.yaml"))
    with (
        tempfile.TemporaryDirectory(prefix="tagmgr-demo-") as workdir,
        RegistryServer(Path(workdir)) as server,
    ):
        print(f"docker-registry listening on {server.address}\n")
        push_sources(files, server.address)
        mapping = [f"--map-registry=docker.io={server.address}"]
        steps = [
            (["validate", *files], {0}),
            (["plan", "--detailed-exitcode", *mapping, *files], {2}),
            (["apply", "--yes", *mapping, *files], {0}),
            (["plan", "--detailed-exitcode", *mapping, *files], {0}),
        ]
        steps += derived_tag_steps(Path(workdir), server.address, mapping)
        for args, expected in steps:
            if run(args) not in expected:
                print(f"demo: unexpected exit code from tagmgr {args[0]}", file=sys.stderr)
                return 1
        print(Path(workdir, "derived.yaml").read_text(encoding="utf-8"))
    print("docker-registry stopped; demo done")
    return 0


DERIVED_MANIFEST = """\
images:
- name: docker.io/starlingx/intel-gpu-plugin
  src_build_tag: master-distroless-stable-20261124T000000Z.0
  upstream: {{repo: ./upstream, commit: {commit}}}
  tag: "stx.4.0-{{describe}}"
"""


def derived_tag_steps(
    workdir: Path, address: str, mapping: list[str]
) -> list[tuple[list[str], set[int]]]:
    """An upstream repo tagged v0.11.0 plus three commits, and a manifest deriving its tag."""
    commit = make_upstream(workdir / "upstream")
    manifest = workdir / "derived.yaml"
    manifest.write_text(DERIVED_MANIFEST.format(commit=commit[:7]), encoding="utf-8")
    image = KINDS["index"]("derived")
    push(
        address, "starlingx/intel-gpu-plugin", "master-distroless-stable-20261124T000000Z.0", image
    )
    cache = f"--git-cache={workdir / 'git-cache'}"
    return [
        (["describe", cache, str(manifest)], {0}),
        (["apply", "--yes", cache, *mapping, str(manifest)], {0}),
        (["describe", "--write", cache, str(manifest)], {0}),
    ]


def make_upstream(path: Path) -> str:
    """A git repository with a lightweight tag v0.11.0 and three commits after it; its head."""
    env = {
        "GIT_AUTHOR_NAME": "demo",
        "GIT_AUTHOR_EMAIL": "demo@example.invalid",
        "GIT_COMMITTER_NAME": "demo",
        "GIT_COMMITTER_EMAIL": "demo@example.invalid",
        "GIT_AUTHOR_DATE": "2026-11-24T00:00:00Z",
        "GIT_COMMITTER_DATE": "2026-11-24T00:00:00Z",
        "PATH": os.environ["PATH"],
    }

    def git(*args: str) -> str:
        done = subprocess.run(
            ["git", "-C", str(path), *args], env=env, check=True, capture_output=True
        )
        return done.stdout.decode().strip()

    path.mkdir()
    git("init", "-q", "-b", "main")
    for number in range(4):
        git("commit", "-q", "--allow-empty", "-m", f"change {number}")
        if number == 0:
            git("tag", "v0.11.0")
    return git("rev-parse", "HEAD")


def push_sources(files: list[str], address: str) -> None:
    """Push a from-scratch image of a different kind for every source build tag."""
    kinds = cycle(["index", "docker_list", "oci", "docker", "unusual"])
    for manifest in load_manifests(files):
        for entry in manifest.entries:
            if entry.src_build_tag is None:  # a source by digest alone: nothing to push by a tag
                continue
            ref = ImageReference.parse(entry.name)
            kind = next(kinds)
            push(address, ref.repository, entry.src_build_tag, KINDS[kind](entry.name))
            print(f"pushed {kind:<11} {address}/{ref.repository}:{entry.src_build_tag}")
    print()


def run(args: list[str]) -> int:
    print(f"$ tagmgr {shlex.join(args)}", flush=True)
    code = subprocess.run([TAGMGR, *args], cwd=ROOT, check=False).returncode
    print(f"(exit {code})\n", flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
