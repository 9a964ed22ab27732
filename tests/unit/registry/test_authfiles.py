"""The auth files' search order, as containers-auth.json(5) and containers/image have it.

Every location is under a temporary directory: ``/run/containers`` is replaced by one, so the
machine's own ``/run`` is never read.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tagmgr.errors import CredentialsError
from tagmgr.registry import authfiles
from tagmgr.registry.authfiles import Location, locations, read_auth_files
from tagmgr.registry.credentials import Keyring
from tagmgr.registry.options import Credentials, RegistryOptions

SECRET = "hunter2-not-for-logs"
REGISTRY = "q.example"
MACHINE_PER_UID_DIRECTORY = authfiles.PER_UID_DIRECTORY  # before any test replaces it


def encoded(username: str, password: str) -> str:
    return base64.b64encode(f"{username}:{password}".encode()).decode()


def write_json(path: Path, content: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(content))
    return path


def login(username: str, registry: str = REGISTRY) -> dict[str, object]:
    return {"auths": {registry: {"auth": encoded(username, SECRET)}}}


@pytest.fixture(autouse=True)
def per_uid_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``/run/containers``, moved under ``tmp_path``."""
    directory = tmp_path / "run-containers"
    monkeypatch.setattr(authfiles, "PER_UID_DIRECTORY", directory)
    return directory


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


def paths(found: list[Location]) -> list[str]:
    return [str(location.path) for location in found]


# --- the order: which places, for which environment ---------------------------------------

UID = 1234


@pytest.mark.parametrize(
    ("variables", "expected"),
    [
        pytest.param(
            {"XDG_RUNTIME_DIR": "{tmp}/xdg-run"},
            [
                "{tmp}/xdg-run/containers/auth.json",
                "{home}/.config/containers/auth.json",
                "{home}/.docker/config.json",
                "{home}/.dockercfg",
            ],
            id="XDG_RUNTIME_DIR set: the primary file is under it",
        ),
        pytest.param(
            {},
            [
                "{uid_dir}/1234/auth.json",
                "{home}/.config/containers/auth.json",
                "{home}/.docker/config.json",
                "{home}/.dockercfg",
            ],
            id="XDG_RUNTIME_DIR unset: /run/containers/UID/auth.json",
        ),
        pytest.param(
            {"XDG_RUNTIME_DIR": ""},
            [
                "{uid_dir}/1234/auth.json",
                "{home}/.config/containers/auth.json",
                "{home}/.docker/config.json",
                "{home}/.dockercfg",
            ],
            id="XDG_RUNTIME_DIR empty: as unset",
        ),
        pytest.param(
            {"XDG_RUNTIME_DIR": "{tmp}/no-such-dir"},
            [
                "{home}/.config/containers/auth.json",
                "{home}/.docker/config.json",
                "{home}/.dockercfg",
            ],
            id="XDG_RUNTIME_DIR names no directory: no primary file",
        ),
        pytest.param(
            {"XDG_CONFIG_HOME": "{tmp}/cfg", "DOCKER_CONFIG": "{tmp}/dockercfg"},
            [
                "{uid_dir}/1234/auth.json",
                "{tmp}/cfg/containers/auth.json",
                "{tmp}/dockercfg/config.json",
                "{home}/.dockercfg",
            ],
            id="XDG_CONFIG_HOME and DOCKER_CONFIG move their files, not ~/.dockercfg",
        ),
        pytest.param(
            {"REGISTRY_AUTH_FILE": "{tmp}/ci.json", "XDG_RUNTIME_DIR": "{tmp}/xdg-run"},
            ["{tmp}/ci.json"],
            id="REGISTRY_AUTH_FILE: that file only",
        ),
    ],
)
def test_search_order_on_linux(
    tmp_path: Path,
    home: Path,
    per_uid_directory: Path,
    variables: dict[str, str],
    expected: list[str],
) -> None:
    (tmp_path / "xdg-run").mkdir()
    places = {"tmp": str(tmp_path), "home": str(home), "uid_dir": str(per_uid_directory)}
    env = {"HOME": str(home), **{k: v.format(**places) for k, v in variables.items()}}
    found = locations(RegistryOptions(), env, platform="linux", uid=UID)
    assert paths(found) == [path.format(**places) for path in expected]


def test_the_per_uid_file_is_under_run_containers_for_this_processs_uid(
    home: Path, per_uid_directory: Path
) -> None:
    assert Path("/run/containers") == MACHINE_PER_UID_DIRECTORY
    found = locations(RegistryOptions(), {"HOME": str(home)}, platform="linux")
    assert found[0].path == per_uid_directory / str(os.getuid()) / "auth.json"


def test_only_dockercfg_is_in_the_legacy_format(home: Path) -> None:
    found = locations(RegistryOptions(), {"HOME": str(home)}, platform="linux", uid=UID)
    assert [location.path.name for location in found if location.legacy] == [".dockercfg"]


def test_a_missing_xdg_runtime_dir_is_warned_about(
    tmp_path: Path, home: Path, caplog: pytest.LogCaptureFixture
) -> None:
    env = {"HOME": str(home), "XDG_RUNTIME_DIR": str(tmp_path / "gone")}
    with caplog.at_level(logging.WARNING, logger="tagmgr.registry"):
        locations(RegistryOptions(), env, platform="linux", uid=UID)
    assert f"{tmp_path / 'gone'}, named by $XDG_RUNTIME_DIR, does not exist" in caplog.text


@pytest.mark.parametrize("platform", ["darwin", "win32"])
def test_off_linux_the_primary_file_is_under_the_home(home: Path, platform: str) -> None:
    found = locations(RegistryOptions(), {"HOME": str(home)}, platform=platform, uid=UID)
    assert paths(found) == [
        f"{home}/.config/containers/auth.json",
        f"{home}/.docker/config.json",
        f"{home}/.dockercfg",
    ]


def test_authfile_option_wins_over_every_variable(tmp_path: Path, home: Path) -> None:
    env = {
        "HOME": str(home),
        "REGISTRY_AUTH_FILE": str(tmp_path / "env.json"),
        "TAGMGR_AUTH_JSON": json.dumps(login("from-variable")),
    }
    options = RegistryOptions(authfile=write_json(tmp_path / "option.json", login("option")))
    assert paths(locations(options, env)) == [str(tmp_path / "option.json")]
    files, searched = read_auth_files(options, env)
    assert [f.name for f in files] == searched == [str(tmp_path / "option.json")]


# --- the order, read: the first file that has the registry gives its credentials -----------

DEFAULTS = [
    "{uid_dir}/{uid}/auth.json",
    "{home}/.config/containers/auth.json",
    "{home}/.docker/config.json",
]


@pytest.mark.parametrize("first", range(4))
def test_the_first_default_file_with_the_registry_wins(
    home: Path, per_uid_directory: Path, first: int
) -> None:
    """Files at position ``first`` and after hold the registry, each with its own user."""
    places = {"home": str(home), "uid_dir": str(per_uid_directory), "uid": os.getuid()}
    written = [Path(p.format(**places)) for p in DEFAULTS]
    for index, path in enumerate(written[first:], start=first):
        write_json(path, login(f"user{index}"))
    legacy = {REGISTRY: {"auth": encoded("user3", SECRET), "email": "x@example"}}
    write_json(home / ".dockercfg", legacy)
    for index, path in enumerate(written[:first]):
        write_json(path, login(f"other{index}", "other.example"))
    keyring = Keyring.load(RegistryOptions(), {"HOME": str(home)})
    found = keyring.find(REGISTRY, "team/app")
    assert found == Credentials(f"user{first}", SECRET)
    assert found is not None
    assert found.source == (str(home / ".dockercfg") if first == 3 else str(written[first]))


def test_legacy_dockercfg_keys_stand_for_their_host(home: Path) -> None:
    """Its keys are API URLs: only the host counts, a path included (containers/image)."""
    write_json(
        home / ".dockercfg",
        {
            "https://index.docker.io/v1/": {"auth": encoded("hub", SECRET)},
            "q.example/team": {"auth": encoded("host-only", SECRET)},
        },
    )
    keyring = Keyring.load(RegistryOptions(), {"HOME": str(home)})
    assert keyring.find("docker.io", "library/alpine") == Credentials("hub", SECRET)
    assert keyring.find(REGISTRY, "other/app") == Credentials("host-only", SECRET)


# --- a file the user named -----------------------------------------------------------------


def test_registry_auth_file_replaces_the_defaults(tmp_path: Path, home: Path) -> None:
    write_json(home / ".docker" / "config.json", login("default"))
    env = {"HOME": str(home), "REGISTRY_AUTH_FILE": str(write_json(tmp_path / "ci.json", {}))}
    keyring = Keyring.load(RegistryOptions(), env)
    assert keyring.find(REGISTRY) is None
    assert keyring.searched == str(tmp_path / "ci.json")


def test_tagmgr_auth_json_holds_the_content_and_replaces_every_file(
    tmp_path: Path, home: Path
) -> None:
    write_json(home / ".docker" / "config.json", login("default"))
    env = {
        "HOME": str(home),
        "REGISTRY_AUTH_FILE": str(write_json(tmp_path / "ci.json", login("file"))),
        "TAGMGR_AUTH_JSON": json.dumps(login("ci")),
    }
    keyring = Keyring.load(RegistryOptions(), env)
    found = keyring.find(REGISTRY)
    assert found == Credentials("ci", SECRET)
    assert found is not None
    assert found.source == keyring.searched == "$TAGMGR_AUTH_JSON"


@pytest.mark.parametrize(
    "content", ['{"auths": {"q.example": {"auth": "' + SECRET, '["' + SECRET + '"]']
)
def test_tagmgr_auth_json_that_is_not_an_auth_file(home: Path, content: str) -> None:
    env = {"HOME": str(home), "TAGMGR_AUTH_JSON": content}
    with pytest.raises(CredentialsError) as caught:
        Keyring.load(RegistryOptions(), env)
    assert str(caught.value).startswith("$TAGMGR_AUTH_JSON: ")
    assert SECRET not in str(caught.value)


@pytest.fixture
def pipe() -> Iterator[tuple[int, int]]:
    read_end, write_end = os.pipe()
    yield read_end, write_end
    for descriptor in (read_end, write_end):
        with contextlib.suppress(OSError):  # the test closed it already
            os.close(descriptor)


def test_a_pipe_is_read_once_up_front(home: Path, pipe: tuple[int, int]) -> None:
    """``--authfile /dev/stdin`` or ``--authfile <(...)``: a pipe, which can be read only once."""
    read_end, write_end = pipe
    os.write(write_end, json.dumps(login("piped")).encode())
    os.close(write_end)
    options = RegistryOptions(authfile=Path(f"/dev/fd/{read_end}"))
    keyring = Keyring.load(options, {"HOME": str(home)})
    for repository in ("a", "b", "c/d"):
        assert keyring.find(REGISTRY, repository) == Credentials("piped", SECRET)


@pytest.mark.parametrize(
    ("name", "problem"),
    [("nope.json", "no such auth file"), ("", "a directory, not an auth file")],
)
@pytest.mark.parametrize(
    ("named", "origin"),
    [("option", "--authfile"), ("variable", "$REGISTRY_AUTH_FILE")],
)
def test_a_named_file_that_cannot_be_read_is_refused_at_load(
    tmp_path: Path, home: Path, name: str, problem: str, named: str, origin: str
) -> None:
    path = tmp_path / name if name else tmp_path
    options = RegistryOptions(authfile=path if named == "option" else None)
    env = {"HOME": str(home)} | ({"REGISTRY_AUTH_FILE": str(path)} if named == "variable" else {})
    with pytest.raises(CredentialsError) as caught:
        Keyring.load(options, env)
    assert str(caught.value) == f"{path}: {problem} (from {origin})"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"auths": {"q.example": {"auth": "' + SECRET, "not valid JSON"),
        ('["' + SECRET + '"]', "expected a JSON object with an 'auths' map"),
        (b"\xff" + SECRET.encode(), "not valid JSON"),
    ],
)
def test_a_default_file_that_is_not_json_is_refused_at_load_never_quoted(
    home: Path, content: str | bytes, message: str
) -> None:
    path = home / ".docker" / "config.json"
    path.parent.mkdir(parents=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    with pytest.raises(CredentialsError) as caught:
        Keyring.load(RegistryOptions(), {"HOME": str(home)})
    assert str(caught.value) == f"{path}: {message}"
    assert SECRET not in str(caught.value)


def test_searched_lists_every_default_place(home: Path, per_uid_directory: Path) -> None:
    keyring = Keyring.load(RegistryOptions(), {"HOME": str(home)})
    assert keyring.searched == (
        f"{per_uid_directory}/{os.getuid()}/auth.json, {home}/.config/containers/auth.json, "
        f"{home}/.docker/config.json, {home}/.dockercfg"
    )
