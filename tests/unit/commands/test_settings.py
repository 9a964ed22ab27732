"""The options every call repeats, from the command line, the environment, then the files."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from tagmgr.cli import build_parser, main
from tagmgr.commands.settings import _settings, apply_settings, config_files
from tagmgr.engines.names import DEFAULT_ENGINE, ENGINE_NAMES
from tagmgr.errors import ConfigError, TagmgrError
from tagmgr.oci.registrymap import RegistryMap
from tests.support.paths import REPO_ROOT
from tests.unit.docs.test_options_documented import sub_commands

SCHEMA = json.loads((REPO_ROOT / "schemas" / "config.schema.json").read_text(encoding="utf-8"))


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project directory as the current one, and an XDG config home of its own; the files
    are looked up (conftest turns that off for every other test)."""
    project = tmp_path / "project"
    project.mkdir()
    monkeypatch.chdir(project)
    monkeypatch.delenv("TAGMGR_CONFIG")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    return tmp_path / "xdg"


def user_file(home: Path, text: str) -> Path:
    path = home / "tagmgr" / "config.yaml"
    path.parent.mkdir(parents=True)
    path.write_text(text, encoding="utf-8")
    return path


def parsed(*argv: str, environ: dict[str, str] | None = None) -> argparse.Namespace:
    args = build_parser(argv).parse_args(argv)
    apply_settings(args, environ if environ is not None else {})
    return args


def env(home: Path, **variables: str) -> dict[str, str]:
    return {"XDG_CONFIG_HOME": str(home), **variables}


def test_tagmgr_s_defaults_when_nothing_says_otherwise(home: Path) -> None:
    args = parsed("apply", "m.yaml", environ=env(home))
    assert (args.jobs, args.engine, args.certs_dir, args.authfile) == (4, DEFAULT_ENGINE, [], None)
    assert args.map_registry is None


def test_command_line_then_environment_then_project_then_user_key_by_key(home: Path) -> None:
    user_file(home, "jobs: 2\nmax-rps: 5\nengine: skopeo\ncerts-dir: [certs]\n")
    Path(".tagmgr.yaml").write_text("jobs: 3\nmax-rps: 6\n", encoding="utf-8")
    variables = env(home, TAGMGR_MAX_RPS="7")
    args = parsed("apply", "--engine", "docker", "m.yaml", environ=variables)
    assert (args.jobs, args.max_rps, args.engine) == (3, 7.0, "docker")
    assert args.certs_dir == [home / "tagmgr" / "certs"]  # relative to the file that says it
    listed = parsed("apply", "--certs-dir", "mine", "m.yaml", environ=variables).certs_dir
    assert listed == [Path("mine")]  # a list given replaces the file's, whole


def test_each_variable_is_read_as_its_option(home: Path) -> None:
    variables = env(
        home,
        TAGMGR_MAP_REGISTRY="docker.io=127.0.0.1:5000, quay.io=q.lan",
        TAGMGR_CERTS_DIR="/a:/b",
        TAGMGR_INSECURE_REGISTRY="r.lan:5000 s.lan",
        TAGMGR_REQUEST_TIMEOUT="2.5",
        TAGMGR_REGISTRY_TIMEOUT="9",
        TAGMGR_JOBS="8",
        TAGMGR_GIT_CACHE="/cache",
        TAGMGR_ENGINE="api",
    )
    args = parsed("apply", "m.yaml", environ=variables)
    assert args.map_registry == RegistryMap((("docker.io", "127.0.0.1:5000"), ("quay.io", "q.lan")))
    assert (args.certs_dir, args.insecure_registry) == (
        [Path("/a"), Path("/b")],
        ["r.lan:5000", "s.lan"],
    )
    assert (args.request_timeout, args.registry_timeout, args.jobs) == (2.5, 9.0, 8)
    assert (args.git_cache, args.engine) == (Path("/cache"), "api")


def test_a_bad_variable_names_itself(home: Path) -> None:
    with pytest.raises(TagmgrError, match=r"^TAGMGR_JOBS='0': must be at least 1$"):
        parsed("apply", "m.yaml", environ=env(home, TAGMGR_JOBS="0"))
    with pytest.raises(TagmgrError, match=r"^TAGMGR_ENGINE='copy': 'copy' is no copy engine; "):
        parsed("apply", "m.yaml", environ=env(home, TAGMGR_ENGINE="copy"))


def test_the_file_s_problems_are_all_located(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    Path(".tagmgr.yaml").write_text(
        "jobs: 0\nmap-registry:\n  docker.io: 127.0.0.1:5000/x\nyes: true\ncert-dir: [a]\n",
        encoding="utf-8",
    )
    assert main(["resolve", "docker.io/library/alpine:3"]) == 1
    assert capsys.readouterr() == (
        "",
        ".tagmgr.yaml:1:7: jobs: 0 is not a whole number of at least 1: the work done in parallel"
        " (--jobs)\n"
        ".tagmgr.yaml:3:14: map-registry['docker.io']: 'docker.io=127.0.0.1:5000/x': expected"
        " FROM=TO, two"
        " registry hosts such as docker.io=127.0.0.1:5000\n"
        ".tagmgr.yaml:4:6: yes: true is not allowed here: the yes that confirms a change goes on"
        " the command line of the command that makes it (--yes)\n"
        ".tagmgr.yaml:5:1: cert-dir: unknown key 'cert-dir'; did you mean 'certs-dir'?\n",
    )


def test_tagmgr_config_names_the_one_file_and_empty_means_none(home: Path, tmp_path: Path) -> None:
    user_file(home, "jobs: 2\n")
    Path(".tagmgr.yaml").write_text("jobs: 3\n", encoding="utf-8")
    named = tmp_path / "ci.yaml"
    named.write_text("# CI's own\njobs: 16\n", encoding="utf-8")
    assert parsed("plan", "m.yaml", environ=env(home, TAGMGR_CONFIG=str(named))).jobs == 16
    assert parsed("plan", "m.yaml", environ=env(home, TAGMGR_CONFIG="")).jobs == 4
    with pytest.raises(ConfigError, match=r"gone\.yaml:1:1: cannot read the file"):
        parsed("plan", "m.yaml", environ=env(home, TAGMGR_CONFIG=str(tmp_path / "gone.yaml")))
    assert config_files(env(home)) == [Path(".tagmgr.yaml"), home / "tagmgr" / "config.yaml"]


def test_the_environment_s_credentials_come_before_a_file_s_authfile(home: Path) -> None:
    Path(".tagmgr.yaml").write_text("authfile: ~/auth.json\n", encoding="utf-8")
    assert parsed("plan", "m.yaml", environ=env(home)).authfile == Path.home() / "auth.json"
    for name in ("REGISTRY_AUTH_FILE", "TAGMGR_AUTH_JSON"):  # read where credentials are sought
        assert parsed("plan", "m.yaml", environ=env(home, **{name: "x"})).authfile is None


def test_a_key_a_command_does_not_take_is_left_alone(home: Path) -> None:
    Path(".tagmgr.yaml").write_text("engine: skopeo\njobs: 3\n", encoding="utf-8")
    args = parsed("plan", "m.yaml", environ=env(home))
    assert (args.jobs, hasattr(args, "engine")) == (3, False)


def test_validate_reads_no_configuration(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """validate takes none of these options, so even a broken file is not read (nor paid for)."""
    Path(".tagmgr.yaml").write_text("jobs: [\n", encoding="utf-8")
    manifest = Path("m.yaml")
    manifest.write_text("images: []\n", encoding="utf-8")
    assert main(["validate", str(manifest)]) == 0
    assert capsys.readouterr().out == "m.yaml: ok (0 images)\n"


def test_the_schema_s_keys_are_the_settings_and_their_options() -> None:
    keys = [setting.key for setting in _settings()]
    assert sorted(SCHEMA["properties"]) == sorted([*keys, "yes"])
    assert SCHEMA["properties"]["engine"]["enum"] == list(ENGINE_NAMES)
    taken = {
        option.lstrip("-")
        for _, command in sub_commands(build_parser())
        for option in command._option_string_actions
    }
    assert set(keys) <= taken
