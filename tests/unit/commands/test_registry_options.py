"""The registry options as one ``RegistryOptions``: the time budget comes from the command line,
and what ``--help`` states as its defaults is the policy's."""

from __future__ import annotations

import pytest

from tagmgr.cli import build_parser
from tagmgr.commands.options import open_registries
from tagmgr.registry.policy import RetryPolicy


def test_the_time_budget_is_the_command_line_s_else_the_policy_s() -> None:
    argv = ["plan", "--request-timeout", "2.5", "m.yaml"]
    with open_registries(build_parser(argv).parse_args(argv)) as registries:
        assert registries.options.retry == RetryPolicy(request_timeout=2.5)
    argv = ["resolve", "--registry-timeout=7"]
    with open_registries(build_parser(argv).parse_args(argv)) as registries:
        assert registries.options.retry == RetryPolicy(registry_timeout=7.0)


def test_help_states_the_policy_s_defaults(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser(["plan"]).parse_args(["plan", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    policy = RetryPolicy()
    assert f"retries and their waits included (default: {policy.request_timeout:g})" in text
    assert f"for the rest of the run (default: {policy.registry_timeout:g})" in text
