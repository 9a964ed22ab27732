"""Reaching a Docker daemon through the docker SDK, the way the docker CLI finds it.

Without an explicit host, the docker CLI's order: ``DOCKER_CONTEXT`` names a context; else
``DOCKER_HOST`` (TLS from ``DOCKER_TLS_VERIFY`` and ``DOCKER_CERT_PATH``); else the current context
of the docker config (``$DOCKER_CONFIG`` or ``~/.docker/config.json``); else the local socket.
An explicit host (``docker://HOST``) is a unix socket path (``/run/docker.sock``), ``unix://PATH``
or ``tcp://HOST:PORT``, with TLS from the same variables as ``docker -H`` takes it.

Its failures become ``DockerError`` here, at one boundary. Import this module only where a daemon
is reached (it loads the SDK): commands that never talk to one do not pay for it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import docker
import docker.errors
import requests
from docker import APIClient
from docker.context import ContextAPI
from docker.utils import kwargs_from_env

from tagmgr.errors import DockerError

DAEMON_TIMEOUT_SECONDS = 600
_TCP_HOST = re.compile(r"tcp://(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]):[0-9]{1,5}")


def parse_host(text: str) -> str:
    """The SDK's ``base_url`` for a host a person wrote; raise ``DockerError`` for other forms."""
    if text.startswith("/"):
        return f"unix://{text}"
    if text.startswith("unix:///") or _TCP_HOST.fullmatch(text):
        return text
    raise DockerError(
        f"docker host {text!r}: expected a unix socket path (/run/docker.sock), "
        "unix:///PATH or tcp://HOST:PORT"
    )


@contextmanager
def daemon_errors(where: str) -> Iterator[None]:
    """Translate the SDK's and its HTTP library's failures into ``DockerError`` naming ``where``."""
    try:
        yield
    except docker.errors.APIError as error:
        raise DockerError(f"{where}: {error.explanation or error}") from error
    except (docker.errors.DockerException, requests.RequestException) as error:
        raise DockerError(f"{where}: {error}") from error


@contextmanager
def connect(
    host: str | None = None, environ: Mapping[str, str] | None = None
) -> Iterator[APIClient]:
    """An API client for ``host`` (a ``parse_host`` result), or the daemon the docker CLI would use.

    Failures to connect, and any later failure of the client, are ``DockerError``s.
    """
    environment = dict(os.environ if environ is None else environ)
    context = environment.get("DOCKER_CONTEXT")
    named = host or (f"of context {context}" if context else environment.get("DOCKER_HOST"))
    with daemon_errors(f"docker daemon {named or '(local)'}"):
        if host is not None:
            tls = kwargs_from_env(environment=environment).get("tls", False)
            client = APIClient(base_url=host, tls=tls, timeout=DAEMON_TIMEOUT_SECONDS)
        elif context:
            if ContextAPI.get_context(context) is None:
                raise DockerError(f"DOCKER_CONTEXT={context}: docker knows no such context")
            client = docker.DockerClient.from_context(context, timeout=DAEMON_TIMEOUT_SECONDS).api
        else:
            client = docker.DockerClient.from_env(
                environment=environment, timeout=DAEMON_TIMEOUT_SECONDS
            ).api
        try:
            yield client
        finally:
            client.close()
