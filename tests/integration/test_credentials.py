"""Finding credentials: real auth files in a temporary home, a real credential helper on PATH."""

from __future__ import annotations

import base64
import json
import os
import stat
from pathlib import Path

import pytest

from tagmgr.errors import CredentialsError
from tagmgr.registry.credentials import describe_sources, find_credentials
from tagmgr.registry.options import Credentials, RegistryOptions

SECRET = "hunter2-not-for-logs"
HELPER = """#!/bin/sh
here=$(dirname "$0")
printf '%s\\n' "$@" > "$here/argv.txt"
IFS= read -r server
printf '%s' "$server" > "$here/stdin.txt"
case "$server" in
  registry.example|https://index.docker.io/v1/)
    printf '{"ServerURL": "%s", "Username": "helper-user", "Secret": "helper-secret"}' "$server";;
  broken.example) echo 'not json at all';;
  failing.example) echo 'keychain is locked' >&2; exit 3;;
  answered.example) printf '{"Username": "u", "Secret": "hunter2-not-for-logs"}\n'; exit 4;;
  stdout.example) echo 'error getting credentials - err: exit status 1'; exit 1;;
  *) echo 'credentials not found in native keychain'; exit 1;;
esac
"""


def encoded(username: str, password: str) -> str:
    return base64.b64encode(f"{username}:{password}".encode()).decode()


def write_json(path: Path, content: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(content))
    return path


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """An environment whose every default location is under ``tmp_path``."""
    return {"HOME": str(tmp_path / "home"), "XDG_RUNTIME_DIR": str(tmp_path / "run")}


@pytest.fixture
def helper_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``docker-credential-fake`` on PATH; it records its argv and stdin beside itself."""
    directory = tmp_path / "bin"
    directory.mkdir()
    script = directory / "docker-credential-fake"
    script.write_text(HELPER)
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{directory}{os.pathsep}{os.environ['PATH']}")
    return directory


def runtime_file(env: dict[str, str]) -> Path:
    return Path(env["XDG_RUNTIME_DIR"], "containers", "auth.json")


def docker_file(env: dict[str, str]) -> Path:
    return Path(env["HOME"], ".docker", "config.json")


def test_credentials_repr_and_str_never_show_the_password() -> None:
    credentials = Credentials("alice", SECRET)
    assert SECRET not in repr(credentials)
    assert SECRET not in str(credentials)
    assert "alice" in repr(credentials)


def test_auth_entry_in_explicit_authfile(tmp_path: Path, env: dict[str, str]) -> None:
    authfile = write_json(
        tmp_path / "auth.json", {"auths": {"q.example": {"auth": encoded("u", "p:x")}}}
    )
    options = RegistryOptions(authfile=authfile)
    assert find_credentials("q.example", options, env) == Credentials("u", "p:x")
    assert find_credentials("other.example", options, env) is None


def test_username_and_password_entry(tmp_path: Path, env: dict[str, str]) -> None:
    entry = {"username": "robot", "password": SECRET}
    authfile = write_json(tmp_path / "auth.json", {"auths": {"q.example": entry}})
    found = find_credentials("q.example", RegistryOptions(authfile=authfile), env)
    assert found == Credentials("robot", SECRET)


@pytest.mark.parametrize(
    ("key", "registry"),
    [
        ("https://index.docker.io/v1/", "docker.io"),
        ("docker.io", "docker.io"),
        ("http://127.0.0.1:5000/v2/", "127.0.0.1:5000"),
        ("https://q.example", "q.example"),
    ],
)
def test_keys_written_as_urls_or_hub_aliases(key: str, registry: str, env: dict[str, str]) -> None:
    write_json(docker_file(env), {"auths": {key: {"auth": encoded("u", "p")}}})
    assert find_credentials(registry, RegistryOptions(), env) == Credentials("u", "p")


def test_namespace_keys_are_not_used_for_the_whole_registry(env: dict[str, str]) -> None:
    write_json(runtime_file(env), {"auths": {"q.example/team": {"auth": encoded("u", "p")}}})
    assert find_credentials("q.example", RegistryOptions(), env) is None


def test_default_files_are_read_in_order_until_one_has_the_registry(env: dict[str, str]) -> None:
    write_json(runtime_file(env), {"auths": {"first.example": {"auth": encoded("run", "1")}}})
    config_file = Path(env["HOME"], ".config", "containers", "auth.json")
    write_json(config_file, {"auths": {"second.example": {"auth": encoded("config", "2")}}})
    write_json(docker_file(env), {"auths": {"second.example": {"auth": encoded("docker", "3")}}})
    options = RegistryOptions()
    assert find_credentials("first.example", options, env) == Credentials("run", "1")
    assert find_credentials("second.example", options, env) == Credentials("config", "2")


def test_docker_config_env_and_missing_defaults_are_skipped(
    tmp_path: Path, env: dict[str, str]
) -> None:
    assert find_credentials("q.example", RegistryOptions(), env) is None
    env["DOCKER_CONFIG"] = str(tmp_path / "dockercfg")
    write_json(
        tmp_path / "dockercfg" / "config.json",
        {"auths": {"q.example": {"auth": encoded("d", "c")}}},
    )
    assert find_credentials("q.example", RegistryOptions(), env) == Credentials("d", "c")


def test_registry_auth_file_replaces_the_defaults(tmp_path: Path, env: dict[str, str]) -> None:
    write_json(runtime_file(env), {"auths": {"q.example": {"auth": encoded("default", "x")}}})
    env["REGISTRY_AUTH_FILE"] = str(write_json(tmp_path / "ci.json", {"auths": {}}))
    assert find_credentials("q.example", RegistryOptions(), env) is None
    assert describe_sources(RegistryOptions(), env) == str(tmp_path / "ci.json")


def test_missing_explicit_authfile_is_an_error(tmp_path: Path, env: dict[str, str]) -> None:
    options = RegistryOptions(authfile=tmp_path / "nope.json")
    with pytest.raises(CredentialsError) as caught:
        find_credentials("q.example", options, env)
    assert str(caught.value) == f"{tmp_path / 'nope.json'}: no such auth file (from --authfile)"


def test_describe_sources_lists_the_default_files(env: dict[str, str]) -> None:
    home = env["HOME"]
    assert describe_sources(RegistryOptions(), env) == (
        f"{env['XDG_RUNTIME_DIR']}/containers/auth.json, "
        f"{home}/.config/containers/auth.json, {home}/.docker/config.json"
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"auths": {"q.example": {"auth": "' + SECRET, "not valid JSON"),
        ('["' + SECRET + '"]', "expected a JSON object with an 'auths' map"),
        (
            '{"auths": {"q.example": {"auth": "%%' + SECRET + '"}}}',
            "an 'auth' value is not valid base64",
        ),
        (
            json.dumps(
                {"auths": {"q.example": {"auth": base64.b64encode(SECRET.encode()).decode()}}}
            ),
            "an 'auth' value is not base64 of 'user:password'",
        ),
    ],
)
def test_bad_files_name_the_file_never_the_content(
    tmp_path: Path, env: dict[str, str], content: str, message: str
) -> None:
    authfile = tmp_path / "auth.json"
    authfile.write_text(content)
    with pytest.raises(CredentialsError) as caught:
        find_credentials("q.example", RegistryOptions(authfile=authfile), env)
    assert str(caught.value) == f"{authfile}: {message}"
    assert SECRET not in str(caught.value)


def test_cred_helper_gets_the_host_on_stdin_and_nothing_secret_in_argv(
    env: dict[str, str], helper_dir: Path
) -> None:
    config = {
        "auths": {"registry.example": {"auth": encoded("inline", "ignored")}},
        "credHelpers": {"registry.example": "fake"},
    }
    write_json(docker_file(env), config)
    found = find_credentials("registry.example", RegistryOptions(), env)
    assert found == Credentials("helper-user", "helper-secret")
    assert (helper_dir / "argv.txt").read_text() == "get\n"
    assert (helper_dir / "stdin.txt").read_text() == "registry.example"


def test_creds_store_asks_for_docker_hub_by_its_v1_url(
    env: dict[str, str], helper_dir: Path
) -> None:
    write_json(
        docker_file(env), {"auths": {"https://index.docker.io/v1/": {}}, "credsStore": "fake"}
    )
    found = find_credentials("docker.io", RegistryOptions(), env)
    assert found == Credentials("helper-user", "helper-secret")
    assert (helper_dir / "stdin.txt").read_text() == "https://index.docker.io/v1/"


def test_inline_secret_wins_over_creds_store(env: dict[str, str], helper_dir: Path) -> None:
    config = {"auths": {"registry.example": {"auth": encoded("inline", "p")}}, "credsStore": "fake"}
    write_json(docker_file(env), config)
    assert find_credentials("registry.example", RegistryOptions(), env) == Credentials(
        "inline", "p"
    )
    assert not (helper_dir / "argv.txt").exists()


def test_helper_saying_not_found_means_none(env: dict[str, str], helper_dir: Path) -> None:
    write_json(docker_file(env), {"credsStore": "fake"})
    assert find_credentials("unknown.example", RegistryOptions(), env) is None


@pytest.mark.usefixtures("helper_dir")
@pytest.mark.parametrize(
    ("registry", "message"),
    [
        (
            "failing.example",
            "docker-credential-fake get failing.example exited with 3: keychain is locked",
        ),
        (
            "broken.example",
            "docker-credential-fake did not answer with JSON holding 'Username' and 'Secret'",
        ),
        (
            "stdout.example",
            "docker-credential-fake get stdout.example exited with 1: "
            "error getting credentials - err: exit status 1",
        ),
        (
            "answered.example",
            "docker-credential-fake get answered.example exited with 4: no explanation",
        ),
    ],
)
def test_helper_failures_name_the_file_and_helper(
    env: dict[str, str], registry: str, message: str
) -> None:
    path = write_json(docker_file(env), {"credHelpers": {registry: "fake"}})
    with pytest.raises(CredentialsError) as caught:
        find_credentials(registry, RegistryOptions(), env)
    assert str(caught.value) == f"{path}: {message}"


def test_missing_helper_program_names_the_file(env: dict[str, str]) -> None:
    path = write_json(docker_file(env), {"credHelpers": {"q.example": "no-such-helper-xyz"}})
    with pytest.raises(CredentialsError) as caught:
        find_credentials("q.example", RegistryOptions(), env)
    assert str(caught.value) == (
        f"{path}: credential helper 'no-such-helper-xyz': "
        "docker-credential-no-such-helper-xyz: command not found; is it installed?"
    )
