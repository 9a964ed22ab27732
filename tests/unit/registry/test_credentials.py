"""Which credentials one auth file gives a repository: keys, helpers, and where they came from.

Auth files are real files under a temporary directory; a credential helper is a real program on
``PATH`` (a shell script that records its argv and stdin).
"""

from __future__ import annotations

import base64
import json
import os
import stat
from pathlib import Path

import pytest

from tagmgr.errors import CredentialsError
from tagmgr.registry.credentials import Keyring, keys_for
from tagmgr.registry.options import Credentials, RegistryOptions

SECRET = "hunter2-not-for-logs"
HELPER = """#!/bin/sh
here=$(dirname "$0")
printf '%s\\n' "$@" > "$here/argv.txt"
IFS= read -r server
printf '%s' "$server" > "$here/stdin.txt"
printf '%s\\n' "$server" >> "$here/calls.txt"
case "$server" in
  registry.example|https://index.docker.io/v1/)
    printf '{"ServerURL": "%s", "Username": "helper-user", "Secret": "helper-secret"}' "$server";;
  broken.example) echo 'not json at all';;
  failing.example) echo 'keychain is locked' >&2; exit 3;;
  answered.example) printf '{"Username": "u", "Secret": "hunter2-not-for-logs"}\\n'; exit 4;;
  stdout.example) echo 'error getting credentials - err: exit status 1'; exit 1;;
  *) echo 'credentials not found in native keychain'; exit 1;;
esac
"""


def encoded(username: str, password: str) -> str:
    return base64.b64encode(f"{username}:{password}".encode()).decode()


def entry(username: str) -> dict[str, str]:
    return {"auth": encoded(username, SECRET)}


@pytest.fixture
def authfile(tmp_path: Path) -> Path:
    return tmp_path / "auth.json"


def keyring_of(path: Path, content: object) -> Keyring:
    path.write_text(json.dumps(content))
    return Keyring.load(RegistryOptions(authfile=path), {"HOME": str(path.parent / "home")})


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


def test_keys_for_a_repository_go_from_most_to_least_specific() -> None:
    assert keys_for("q.example", "team/sub/app") == [
        "q.example/team/sub/app",
        "q.example/team/sub",
        "q.example/team",
        "q.example",
    ]
    assert keys_for("q.example", "") == ["q.example"]


# --- which auths key answers ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("keys", "registry", "repository", "expected"),
    [
        # the most specific key wins, by whole path components
        (["q.example/team/app", "q.example/team", "q.example"], "q.example", "team/app", 0),
        (["q.example/team", "q.example"], "q.example", "team/app", 0),
        (["q.example", "q.example/team"], "q.example", "team/app", 1),
        (["q.example/team", "q.example"], "q.example", "other/app", 1),
        (["q.example/te", "q.example"], "q.example", "team/app", 1),
        (["q.example/team"], "q.example", "other/app", None),
        (["q.example/team"], "q.example", "", None),
        (["q.example/team/app"], "q.example", "team", None),
        # an exact key before a URL or another name for the same host
        (["https://q.example", "q.example"], "q.example", "app", 1),
        (["https://q.example/v1/"], "q.example", "app", 0),
        (["http://127.0.0.1:5000/v2/"], "127.0.0.1:5000", "app", 0),
        (["https://q.example/team"], "q.example", "other/app", 0),
        (["q.example:443"], "q.example", "app", None),
        # Docker Hub's names
        (["https://index.docker.io/v1/"], "docker.io", "library/alpine", 0),
        (["index.docker.io"], "docker.io", "library/alpine", 0),
        (["registry-1.docker.io"], "docker.io", "library/alpine", 0),
        (["docker.io/library", "docker.io"], "docker.io", "library/alpine", 0),
        (["docker.io"], "docker.io", "library/alpine", 0),
    ],
)
def test_which_auths_key_answers(
    authfile: Path, keys: list[str], registry: str, repository: str, expected: int | None
) -> None:
    keyring = keyring_of(
        authfile, {"auths": {key: entry(f"user{i}") for i, key in enumerate(keys)}}
    )
    found = keyring.find(registry, repository)
    assert found == (None if expected is None else Credentials(f"user{expected}", SECRET))


def test_the_best_key_decides_for_its_file_even_without_a_secret(authfile: Path) -> None:
    """containers/image's rule: an empty entry under the best key gives nothing from this file."""
    keyring = keyring_of(authfile, {"auths": {"q.example/team": {}, "q.example": entry("host")}})
    assert keyring.find("q.example", "team/app") is None
    assert keyring.find("q.example", "other/app") == Credentials("host", SECRET)


def test_username_and_password_entry(authfile: Path) -> None:
    keyring = keyring_of(
        authfile, {"auths": {"q.example": {"username": "robot", "password": SECRET}}}
    )
    assert keyring.find("q.example", "app") == Credentials("robot", SECRET)


def test_a_password_may_hold_colons_and_loses_trailing_nuls(authfile: Path) -> None:
    keyring = keyring_of(authfile, {"auths": {"q.example": {"auth": encoded("u", "p:x\0\0")}}})
    assert keyring.find("q.example") == Credentials("u", "p:x")


# --- where they came from -----------------------------------------------------------------------


def test_source_is_the_file_and_a_namespace_key_is_named(authfile: Path) -> None:
    keyring = keyring_of(
        authfile, {"auths": {"q.example/team": entry("team"), "q.example": entry("host")}}
    )
    team, host = keyring.find("q.example", "team/app"), keyring.find("q.example", "x")
    assert team is not None
    assert host is not None
    assert team.source == f"{authfile} (q.example/team)"
    assert host.source == str(authfile)
    assert team.described() == f"user team from {authfile} (q.example/team)"


def test_credentials_repr_and_str_never_show_the_password() -> None:
    credentials = Credentials("alice", SECRET, "/x/auth.json")
    for text in (repr(credentials), str(credentials), credentials.described()):
        assert SECRET not in text
        assert "alice" in text


@pytest.mark.parametrize(
    ("auth", "message"),
    [
        ("%%" + SECRET, "the 'auth' value of 'q.example' is not valid base64"),
        (
            base64.b64encode(SECRET.encode()).decode(),
            "the 'auth' value of 'q.example' is not base64 of 'user:password'",
        ),
    ],
)
def test_a_bad_auth_value_names_the_file_and_key_never_the_content(
    authfile: Path, auth: str, message: str
) -> None:
    keyring = keyring_of(authfile, {"auths": {"q.example": {"auth": auth}}})
    with pytest.raises(CredentialsError) as caught:
        keyring.find("q.example", "app")
    assert str(caught.value) == f"{authfile}: {message}"
    assert SECRET not in str(caught.value)


# --- credential helpers ---------------------------------------------------------------------


def test_cred_helper_wins_and_gets_the_host_on_stdin_nothing_secret_in_argv(
    authfile: Path, helper_dir: Path
) -> None:
    keyring = keyring_of(
        authfile,
        {
            "auths": {"registry.example/team": entry("inline")},
            "credHelpers": {"registry.example": "fake"},
        },
    )
    found = keyring.find("registry.example", "team/app")
    assert found == Credentials("helper-user", "helper-secret")
    assert found is not None
    assert found.source == f"docker-credential-fake (credHelpers in {authfile})"
    assert (helper_dir / "argv.txt").read_text() == "get\n"
    assert (helper_dir / "stdin.txt").read_text() == "registry.example"


@pytest.mark.usefixtures("helper_dir")
def test_cred_helper_keys_name_hosts_only(authfile: Path) -> None:
    keyring = keyring_of(authfile, {"credHelpers": {"registry.example/team": "fake"}})
    assert keyring.find("registry.example", "team/app") is None


def test_a_helper_is_asked_once_per_repository(authfile: Path, helper_dir: Path) -> None:
    keyring = keyring_of(authfile, {"credHelpers": {"registry.example": "fake"}})
    for _ in range(3):
        keyring.find("registry.example", "a")
        keyring.find("registry.example", "b")
    assert (helper_dir / "calls.txt").read_text().splitlines() == ["registry.example"] * 2


def test_creds_store_asks_for_docker_hub_by_its_v1_url(authfile: Path, helper_dir: Path) -> None:
    keyring = keyring_of(
        authfile, {"auths": {"https://index.docker.io/v1/": {}}, "credsStore": "fake"}
    )
    found = keyring.find("docker.io", "library/alpine")
    assert found == Credentials("helper-user", "helper-secret")
    assert found is not None
    assert found.source == f"docker-credential-fake (credsStore in {authfile})"
    assert (helper_dir / "stdin.txt").read_text() == "https://index.docker.io/v1/"


def test_inline_secret_wins_over_creds_store(authfile: Path, helper_dir: Path) -> None:
    keyring = keyring_of(
        authfile, {"auths": {"registry.example": entry("inline")}, "credsStore": "fake"}
    )
    assert keyring.find("registry.example") == Credentials("inline", SECRET)
    assert not (helper_dir / "argv.txt").exists()


@pytest.mark.usefixtures("helper_dir")
def test_helper_saying_not_found_means_none(authfile: Path) -> None:
    assert keyring_of(authfile, {"credsStore": "fake"}).find("unknown.example") is None


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
    authfile: Path, registry: str, message: str
) -> None:
    keyring = keyring_of(authfile, {"credHelpers": {registry: "fake"}})
    with pytest.raises(CredentialsError) as caught:
        keyring.find(registry, "app")
    assert str(caught.value) == f"{authfile}: credHelpers: {message}"
    assert SECRET not in str(caught.value)


def test_a_failing_helper_is_asked_once(authfile: Path, helper_dir: Path) -> None:
    keyring = keyring_of(authfile, {"credHelpers": {"failing.example": "fake"}})
    for _ in range(3):
        with pytest.raises(CredentialsError, match="keychain is locked"):
            keyring.find("failing.example", "app")
    assert (helper_dir / "calls.txt").read_text().splitlines() == ["failing.example"]


def test_missing_helper_program_names_the_file(authfile: Path) -> None:
    keyring = keyring_of(authfile, {"credsStore": "no-such-helper-xyz"})
    with pytest.raises(CredentialsError) as caught:
        keyring.find("q.example")
    assert str(caught.value) == (
        f"{authfile}: credsStore: credential helper 'no-such-helper-xyz': "
        "docker-credential-no-such-helper-xyz: command not found; is it installed?"
    )
