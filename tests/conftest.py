"""Fixtures for tests against real registries on 127.0.0.1, and the gate for integration tests.

Every test under tests/integration/ is marked ``integration``, and so is any test that uses
``registry``, ``secure_registry`` or ``dockerd``: ``-m 'not integration'`` runs the unit tests
alone. Those that use one of these fixtures, or are marked ``integration`` by their own module,
need ``docker-registry`` and ``skopeo`` (and, for ``dockerd``, ``dockerd`` and root): when one
is missing they are skipped, except under CI (``CI`` set, not "false"/"0"), where they fail: CI
never skips them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tagmgr.commands.settings import CONFIG_ENV, _settings
from tests.support.dockerd import DockerDaemon
from tests.support.gate import require_dockerd, require_integration_tools
from tests.support.oci import ImageFactory
from tests.support.registry import (
    RegistryServer,
    SecureRegistry,
    repository_for,
    running_secure_registry,
)

REGISTRY_FIXTURES = frozenset({"registry", "secure_registry", "dockerd"})
INTEGRATION_TESTS = Path(__file__).parent / "integration"
NEEDS_TOOLS = pytest.StashKey[bool]()
# Under pytest-xdist's ``--dist loadgroup`` (``make test``) each worker starts its own registries
# on free ports (session fixtures are per worker); an integration module runs whole on one worker,
# and these groups of modules each on one worker.
SHARED_WORKER = {
    # A dockerd, and pip's wheelhouse, are session fixtures too costly to make on each worker.
    "dockerd": (
        "test_diff_local",
        "test_engine_docker",
        "test_runtime_inuse",
        "test_versions_local",
    ),
    "wheelhouse": ("test_packaging", "test_precommit_hook", "test_ci_templates"),
    # Bounded in time, or racing and signalling processes: never beside one another.
    "timing": (
        "test_e2e_promotion_races",
        "test_expire_faults",
        "test_expire_races",
        "test_faults",
        "test_faults_cli",
        "test_hung_registries",
        "test_progress",
        "test_signals",
        "test_startup_signals",
        "test_stop_requests",
        "test_write_signals",
    ),
}
GROUP_OF = {module: group for group, modules in SHARED_WORKER.items() for module in modules}


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        needs_tools = item.get_closest_marker("integration") is not None or bool(
            REGISTRY_FIXTURES.intersection(getattr(item, "fixturenames", ()))
        )
        item.stash[NEEDS_TOOLS] = needs_tools
        in_integration = item.path.is_relative_to(INTEGRATION_TESTS)
        if needs_tools or in_integration:
            item.add_marker(pytest.mark.integration)
        group = GROUP_OF.get(item.path.stem, item.path.stem if in_integration else None)
        if group is not None:
            item.add_marker(pytest.mark.xdist_group(group))


@pytest.fixture(autouse=True)
def _no_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    """No configuration of this machine's: no .tagmgr.yaml, user file or TAGMGR_* setting (a test
    of the configuration sets its own, or removes TAGMGR_CONFIG)."""
    monkeypatch.setenv(CONFIG_ENV, "")
    for setting in _settings():
        if setting.env:
            monkeypatch.delenv(setting.env, raising=False)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.stash.get(NEEDS_TOOLS, False):
        require_integration_tools()


@pytest.fixture(autouse=True)
def no_job_summary(monkeypatch: pytest.MonkeyPatch) -> None:
    """Under GitHub Actions, tagmgr adds its reports to ``$GITHUB_STEP_SUMMARY``: tests that run
    tagmgr must not write into the summary of the job that runs them."""
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)


@pytest.fixture(scope="session")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegistryServer]:
    """A plain-HTTP registry on 127.0.0.1 shared by the session; ``repo`` keeps tests apart."""
    with RegistryServer(tmp_path_factory.mktemp("registry")) as server:
        yield server


@pytest.fixture(scope="session")
def dockerd() -> Iterator[DockerDaemon]:
    """A real dockerd as root (vfs, no bridge, no iptables) with its own roots and unix socket.

    Skipped without ``dockerd`` or root, except under CI, where that fails.
    """
    require_dockerd()
    with DockerDaemon() as daemon:
        yield daemon


@pytest.fixture
def docker_host(dockerd: DockerDaemon, monkeypatch: pytest.MonkeyPatch) -> DockerDaemon:
    """The session's dockerd as the daemon tagmgr finds: ``DOCKER_HOST`` set, no context or TLS."""
    monkeypatch.setenv("DOCKER_HOST", dockerd.url)
    for name in ("DOCKER_CONTEXT", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH"):
        monkeypatch.delenv(name, raising=False)
    return dockerd


@pytest.fixture(scope="session")
def secure_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecureRegistry]:
    """A TLS (private CA) + htpasswd basic-auth registry on 127.0.0.1 shared by the session."""
    with running_secure_registry(tmp_path_factory.mktemp("secure-registry")) as secure:
        yield secure


@pytest.fixture
def repo(request: pytest.FixtureRequest) -> str:
    """A repository name no other test uses, derived from this test's node id."""
    return repository_for(request.node.nodeid)


@pytest.fixture
def images(request: pytest.FixtureRequest) -> ImageFactory:
    """Builds images (``images.oci()``, ``.index()``, ...) whose blobs no other test shares."""
    return ImageFactory(request.node.nodeid)
