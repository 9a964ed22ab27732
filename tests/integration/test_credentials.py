"""Credentials end to end: the CI recipes, refusing a bad ``--authfile`` once, and skopeo's order.

tagmgr runs as a real child process with ``-vv`` where a secret could leak: the test reads its
``/proc/PID/cmdline``, samples the command lines of every process it starts while it runs,
records the argv of each skopeo (a recording ``skopeo`` first on ``PATH`` runs the real one),
and searches all of them and every line tagmgr wrote for the password and its base64 form.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import select
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tagmgr.registry.credentials import Keyring
from tagmgr.registry.options import RegistryOptions
from tests.support.e2e import one_entry_manifest, run_tagmgr, write_manifest
from tests.support.gate import running_in_ci
from tests.support.oci import ImageFactory, write_oci_layout
from tests.support.push import head_digest, push
from tests.support.registry import RegistryServer, SecureRegistry
from tests.support.tokens import TokenServer, running_token_server

pytestmark = pytest.mark.integration
RUN_TIMEOUT = 120.0
SAMPLE_EVERY = 0.01
RECORDING_SKOPEO = """#!/bin/sh
cat /proc/$$/cmdline > "$(dirname "$0")/skopeo-argv.$$"
exec {real} "$@"
"""


def basic(username: str, password: str) -> str:
    return base64.b64encode(f"{username}:{password}".encode()).decode()


def auth_json(keys: dict[str, tuple[str, str]]) -> str:
    return json.dumps({"auths": {key: {"auth": basic(*pair)} for key, pair in keys.items()}})


@dataclass
class Watched:
    """A finished tagmgr run and every command line seen while it ran."""

    code: int
    out: str
    err: str
    own_cmdline: str
    descendants: list[str] = field(default_factory=list)
    skopeo_argvs: list[str] = field(default_factory=list)

    def exposures(self, *secret_values: str) -> list[str]:
        """Every place one of ``secret_values`` was seen."""
        places = {
            "stdout": self.out,
            "stderr (-vv log)": self.err,
            "tagmgr's /proc/PID/cmdline": self.own_cmdline,
            **{f"skopeo argv {i}": argv for i, argv in enumerate(self.skopeo_argvs)},
            **{f"a child's cmdline: {line[:80]}": line for line in self.descendants},
        }
        return [where for where, text in places.items() for s in secret_values if s in text]


def _cmdline(pid: int | str) -> str:
    try:
        return (
            Path(f"/proc/{pid}/cmdline")
            .read_bytes()
            .replace(b"\0", b" ")
            .decode("utf-8", "replace")
        )
    except OSError:  # gone between listing and reading
        return ""


def _parent(pid: str) -> int:
    try:  # the fields after the command name, which may hold spaces and parentheses
        return int(Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[1])
    except (OSError, IndexError, ValueError):
        return 0


def _sample(into: dict[tuple[int, str], int], done: threading.Event) -> None:
    """Every (pid, command line) seen, with its parent, until ``done``."""
    while not done.wait(SAMPLE_EVERY):
        for pid in filter(str.isdigit, os.listdir("/proc")):
            into[int(pid), _cmdline(pid)] = _parent(pid)


def descendants(samples: dict[tuple[int, str], int], root: int) -> list[str]:
    """The command lines sampled of ``root``'s children, their children, and so on."""
    family, grew = {root}, True
    while grew:
        grown = family | {pid for (pid, _), parent in samples.items() if parent in family}
        family, grew = grown, grown != family
    return sorted({line for (pid, line) in samples if pid in family - {root}})


@pytest.fixture
def recording_bin(tmp_path: Path) -> Path:
    """A ``skopeo`` that records its argv (from ``/proc``) beside itself, then runs the real one."""
    real = shutil.which("skopeo")
    assert real is not None
    directory = tmp_path / "bin"
    directory.mkdir()
    shim = directory / "skopeo"
    shim.write_text(RECORDING_SKOPEO.format(real=real))
    shim.chmod(0o755)
    return directory


def watch_tagmgr(
    tmp_path: Path, args: list[str | Path], env: dict[str, str], stdin: bytes | None = None
) -> Watched:
    """Run ``python -m tagmgr ARGS`` with exactly ``env`` (plus PATH), watching command lines."""
    child_env = {"PATH": os.environ["PATH"], "PYTHONUNBUFFERED": "1", **env}
    samples: dict[tuple[int, str], int] = {}
    done = threading.Event()
    sampler = threading.Thread(target=_sample, args=(samples, done), daemon=True)
    sampler.start()
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "tagmgr", *map(str, args)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=child_env,
            cwd=tmp_path,
        )
        own_cmdline = _cmdline(process.pid)
        out, err = process.communicate(stdin, timeout=RUN_TIMEOUT)
    finally:
        done.set()
        sampler.join(5)
    recorded = sorted((tmp_path / "bin").glob("skopeo-argv.*"))
    return Watched(
        process.returncode,
        out.decode(),
        err.decode(),
        own_cmdline,
        descendants(samples, process.pid),
        [p.read_bytes().replace(b"\0", b" ").decode() for p in recorded],
    )


def clean_env(tmp_path: Path) -> dict[str, str]:
    """A home with no auth files, and no variable that names one."""
    return {"HOME": str(tmp_path / "home"), "XDG_RUNTIME_DIR": str(tmp_path)}


# --- the CI recipes: no file on disk, nothing on a command line ------------------------------


@pytest.fixture
def secure_source(
    secure_registry: SecureRegistry, repo: str, images: ImageFactory, tmp_path: Path
) -> Path:
    """``repo:build-1`` on the secure registry, and a manifest giving it ``v1``."""
    secure = secure_registry
    push(secure.address, repo, "build-1", images.index(), ca_path=secure.ca_path, auth=secure.auth)
    return one_entry_manifest(tmp_path / "images.yaml", f"{secure.address}/{repo}")


def test_tagmgr_auth_json_with_skopeo_exposes_the_secret_nowhere(
    secure_registry: SecureRegistry,
    secure_source: Path,
    repo: str,
    recording_bin: Path,
    tmp_path: Path,
) -> None:
    """The GitHub Actions recipe: the auth.json content in ``TAGMGR_AUTH_JSON``, from a secret.

    The right password is under the repository's namespace key only; the host key holds a wrong
    one, so the copy succeeds only if tagmgr and skopeo both chose the most specific key.
    """
    secure = secure_registry
    namespace = repo.split("/", 1)[0]
    content = auth_json(
        {
            f"{secure.address}/{namespace}": secure.auth,
            secure.address: (secure.username, "wrong-" + secure.password),
        }
    )
    env = {**clean_env(tmp_path), "TAGMGR_AUTH_JSON": content}
    env["PATH"] = f"{recording_bin}{os.pathsep}{os.environ['PATH']}"
    args: list[str | Path] = ["apply", "--yes", "-vv", "--engine", "skopeo"]
    watched = watch_tagmgr(tmp_path, [*args, "--certs-dir", secure.certs_d, secure_source], env)
    assert watched.code == 0, watched.out + watched.err
    assert head_digest(
        secure.address, repo, "v1", ca_path=secure.ca_path, auth=secure.auth
    ) == head_digest(secure.address, repo, "build-1", ca_path=secure.ca_path, auth=secure.auth)
    assert len(watched.skopeo_argvs) == 1
    assert "--src-authfile=/proc/self/fd/" in watched.skopeo_argvs[0]
    assert "tagmgr: DEBUG: running skopeo copy" in watched.err  # the -vv log is the one searched
    assert (
        f"credentials for {secure.address}/{repo}: user {secure.username} from "
        f"$TAGMGR_AUTH_JSON ({secure.address}/{namespace})"
    ) in watched.err
    assert watched.exposures(secure.password, basic(*secure.auth)) == []


@dataclass(frozen=True)
class TokenRegistry:
    server: RegistryServer
    tokens: TokenServer
    password: str


@pytest.fixture(scope="module")
def token_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TokenRegistry]:
    """A registry behind the Bearer token server; one user, ``ci``, may pull and push."""
    workdir = tmp_path_factory.mktemp("token-registry")
    password = secrets.token_urlsafe(12)
    grants = {"ci": {"": frozenset({"pull", "push"})}}
    with (
        running_token_server(workdir / "tokens", {"ci": password}, grants) as tokens,
        RegistryServer(workdir / "server", auth=tokens.registry_auth()) as server,
    ):
        yield TokenRegistry(server, tokens, password)


def test_authfile_on_stdin_with_bearer_tokens_exposes_nothing(
    token_registry: TokenRegistry, repo: str, images: ImageFactory, tmp_path: Path
) -> None:
    """The pipe recipe: ``--authfile /dev/stdin``, the auth.json piped in and read once."""
    address = token_registry.server.address
    content = auth_json({address: ("ci", token_registry.password)})
    authfile = tmp_path / "push-auth.json"  # the test's own push, not tagmgr's run
    authfile.write_text(content)
    layout = write_oci_layout(images.index(), tmp_path / "layout")
    copy = ["skopeo", "copy", "--all", "--preserve-digests", "--quiet", "--dest-tls-verify=false"]
    copied = subprocess.run(
        [
            *copy,
            f"--dest-authfile={authfile}",
            f"oci:{layout}:latest",
            f"docker://{address}/{repo}:b1",
        ],
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert copied.returncode == 0, copied.stderr.decode()
    authfile.unlink()
    manifest = write_manifest(
        tmp_path / "images.yaml",
        [{"name": f"{address}/{repo}", "src_build_tag": "b1", "tag": "v1"}],
    )
    args: list[str | Path] = ["apply", "--yes", "-vv", "--authfile", "/dev/stdin", manifest]
    watched = watch_tagmgr(tmp_path, args, clean_env(tmp_path), stdin=content.encode())
    assert watched.code == 0, watched.out + watched.err
    assert "created" in watched.out
    assert ("ci", (f"repository:{repo}:pull,push",)) in token_registry.tokens.requested
    secret_values = [token_registry.password, basic("ci", token_registry.password)]
    assert watched.exposures(*secret_values, "eyJ") == []  # "eyJ": how every JWT begins


# --- a bad --authfile: refused once, before any request ----------------------------------------


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A port that listens and never accepts: a connection to it is seen, not answered."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        yield sock


@pytest.mark.parametrize("problem", ["missing", "directory"])
def test_an_unusable_authfile_is_refused_once_before_any_request(
    listener: socket.socket, tmp_path: Path, capsys: pytest.CaptureFixture[str], problem: str
) -> None:
    address = f"127.0.0.1:{listener.getsockname()[1]}"
    entries = [
        {"name": f"{address}/app-{i}", "src_build_tag": "build-1", "tag": "v1"} for i in range(20)
    ]
    manifest = write_manifest(tmp_path / "images.yaml", entries)
    authfile = tmp_path / "nope.json" if problem == "missing" else tmp_path
    result = run_tagmgr(capsys, "plan", "--authfile", authfile, manifest)
    reason = "no such auth file" if problem == "missing" else "a directory, not an auth file"
    assert (result.code, result.out) == (1, "")
    assert result.err == f"tagmgr: error: {authfile}: {reason} (from --authfile)\n"
    assert select.select([listener], [], [], 0)[0] == []  # nobody connected


# --- the search order and the key rule agree with skopeo's own -------------------------------

CASES: dict[str, dict[str, dict[str, str | None]]] = {
    "the namespace key beats the host key": {
        "run": {"{host}/{ns}": "right", "{host}": "wrong"},
    },
    "the most specific key decides, even when wrong": {
        "run": {"{host}/{ns}": "wrong", "{host}": "right"},
    },
    "the repository key beats the namespace key": {
        "run": {"{host}/{repo}": "right", "{host}/{ns}": "wrong"},
    },
    "an empty best key gives nothing from its file": {
        "run": {"{host}/{ns}": None, "{host}": "right"},
    },
    "a URL key names its host": {"config": {"https://{host}/v2/": "right"}},
    "the runtime file comes first": {"run": {"{host}": "wrong"}, "docker": {"{host}": "right"}},
    "then XDG_CONFIG_HOME's": {
        "run": {"other.example": "wrong"},
        "config": {"{host}": "right"},
        "docker": {"{host}": "wrong"},
    },
    "then Docker's config.json": {"docker": {"{host}": "right"}, "legacy": {"{host}": "wrong"}},
    "then ~/.dockercfg, cut to hosts": {"legacy": {"https://{host}/{ns}": "right"}},
    "a file without the host is passed over": {
        "run": {"{host}/other": "wrong"},
        "legacy": {"{host}": "right"},
    },
}


def write_case(
    home: Path, runtime: Path, case: dict[str, dict[str, str | None]], values: dict[str, str]
) -> None:
    places = {
        "run": runtime / "containers" / "auth.json",
        "config": home / ".config" / "containers" / "auth.json",
        "docker": home / ".docker" / "config.json",
        "legacy": home / ".dockercfg",
    }
    for place, keys in case.items():
        entries = {
            key.format(**values): {}
            if which is None
            else {"auth": basic(values["user"], values[which])}
            for key, which in keys.items()
        }
        content = entries if place == "legacy" else {"auths": entries}
        places[place].parent.mkdir(parents=True, exist_ok=True)
        places[place].write_text(json.dumps(content))


@pytest.mark.parametrize("case", sorted(CASES))
def test_tagmgr_chooses_the_credentials_skopeo_chooses(
    secure_registry: SecureRegistry, repo: str, images: ImageFactory, tmp_path: Path, case: str
) -> None:
    """One entry holds the right password: tagmgr finds it exactly when skopeo logs in with it."""
    secure = secure_registry
    push(secure.address, repo, "b1", images.oci(), ca_path=secure.ca_path, auth=secure.auth)
    home, runtime = tmp_path / "home", tmp_path / "runtime"
    runtime.mkdir()
    values = {
        "host": secure.address,
        "ns": repo.split("/", 1)[0],
        "repo": repo,
        "user": secure.username,
        "right": secure.password,
        "wrong": "wrong-" + secure.password,
    }
    write_case(home, runtime, CASES[case], values)
    env = {"HOME": str(home), "XDG_RUNTIME_DIR": str(runtime), "PATH": os.environ["PATH"]}
    inspected = subprocess.run(
        [
            *("skopeo", "inspect", "--raw", "--cert-dir", str(secure.cert_dir)),
            f"docker://{secure.address}/{repo}:b1",
        ],
        capture_output=True,
        env=env,
        timeout=60,
        check=False,
    )
    found = Keyring.load(RegistryOptions(), env).find(secure.address, repo)
    tagmgr_right = found is not None and found.password == secure.password
    assert tagmgr_right is (inspected.returncode == 0), inspected.stderr.decode()


# --- where `skopeo login` writes as root in a CI container, tagmgr reads ----------------------

IN_A_PRIVATE_RUN = """
mount -t tmpfs tmpfs /run
printf '%s' "$PASSWORD" |
  skopeo login --cert-dir "$CERT_DIR" -u "$LOGIN" --password-stdin "$HOST" >/dev/null
test -f "/run/containers/$(id -u)/auth.json" || exit 99
exec "$PYTHON" -m tagmgr plan -vv --certs-dir "$CERTS_D" "$MANIFEST"
"""


def private_mounts() -> str:
    """``unshare``, if it can make a mount namespace here; else skip, or fail under CI."""
    unshare = shutil.which("unshare")
    probe = [unshare or "unshare", "--mount", "true"]
    if unshare is None or subprocess.run(probe, capture_output=True, check=False).returncode:
        message = "test needs `unshare --mount` (root, CAP_SYS_ADMIN)"
        if running_in_ci():
            pytest.fail(f"{message}; CI is set, so this fails instead of skipping", pytrace=False)
        pytest.skip(message)
    return unshare


def test_what_skopeo_login_wrote_without_xdg_runtime_dir_is_found(
    secure_registry: SecureRegistry, secure_source: Path, repo: str, tmp_path: Path
) -> None:
    """No ``XDG_RUNTIME_DIR`` (a CI container): ``skopeo login`` writes
    ``/run/containers/$UID/auth.json``, and tagmgr reads it there. ``/run`` is a tmpfs of a
    private mount namespace, so the machine's own is never touched."""
    unshare = private_mounts()
    secure = secure_registry
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path / "home"),
        "PYTHON": sys.executable,
        "PASSWORD": secure.password,
        "LOGIN": secure.username,
        "HOST": secure.address,
        "CERT_DIR": str(secure.cert_dir),
        "CERTS_D": str(secure.certs_d),
        "MANIFEST": str(secure_source),
    }
    planned = subprocess.run(
        [unshare, "--mount", "--propagation", "private", "sh", "-c", IN_A_PRIVATE_RUN],
        capture_output=True,
        env=env,
        cwd=tmp_path,
        timeout=RUN_TIMEOUT,
        check=False,
    )
    out, err = planned.stdout.decode(), planned.stderr.decode()
    assert planned.returncode == 0, out + err  # a valid plan, with a tag to create
    assert out.startswith(f"create          {secure.address}/{repo}:v1 <- build-1")
    uid_file = f"/run/containers/{os.getuid()}/auth.json"
    assert f"credentials for {secure.address}/{repo}: user {secure.username} from {uid_file}" in err
    assert secure.password not in out + err
