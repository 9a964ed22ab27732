"""The only place in tagmgr that speaks HTTP to a registry (the distribution API).

``Registries`` hands out one ``RegistryClient`` per registry host; a client lists tags and reads
manifests, and tells a copy engine how it reached the registry (``Connection``).
"""

from tagmgr.registry.client import RegistryClient
from tagmgr.registry.credentials import Keyring
from tagmgr.registry.options import Connection, Credentials, RegistryOptions
from tagmgr.registry.registries import Registries

__all__ = [
    "Connection",
    "Credentials",
    "Keyring",
    "Registries",
    "RegistryClient",
    "RegistryOptions",
]
