"""One ``RegistryClient`` per registry host, shared by everything a command does."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from types import TracebackType

from tagmgr.registry.client import RegistryClient
from tagmgr.registry.credentials import Keyring
from tagmgr.registry.messages import Transport
from tagmgr.registry.options import RegistryOptions


class Registries:
    """One ``RegistryClient`` per registry host, made on first use; thread-safe.

    The auth files are read once, here, before any request: a named one that cannot be used is
    refused once for the whole command. As a context manager, closes the clients on exit.
    """

    def __init__(
        self,
        options: RegistryOptions,
        *,
        transport: Transport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.options = options
        self._keyring = Keyring.load(options)
        self._transport = transport
        self._sleep = sleep
        self._clients: dict[str, RegistryClient] = {}
        self._lock = threading.Lock()

    def client(self, registry: str) -> RegistryClient:
        with self._lock:
            if registry not in self._clients:
                self._clients[registry] = RegistryClient(
                    registry,
                    self.options,
                    keyring=self._keyring,
                    transport=self._transport,
                    sleep=self._sleep,
                )
            return self._clients[registry]

    def close(self) -> None:
        with self._lock:
            clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            client.close()

    def __enter__(self) -> Registries:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
