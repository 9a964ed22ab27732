"""``--engine auto``: the api engine's cheapest path, skopeo for what it cannot read."""

from __future__ import annotations

from tagmgr.engines.api import WRITES_PER_REPOSITORY, ApiEngine, Unreadable
from tagmgr.engines.skopeo import SkopeoEngine
from tagmgr.oci.descriptor import Descriptor
from tagmgr.oci.reference import ImageReference
from tagmgr.registry import Registries
from tagmgr.system import logs

log = logs.get(__name__)


class AutoEngine:
    writes_per_repository = WRITES_PER_REPOSITORY

    def __init__(self, registries: Registries) -> None:
        self._api = ApiEngine(registries)
        self._skopeo = SkopeoEngine(registries)

    def copy(self, source: ImageReference, destination: ImageReference) -> Descriptor | None:
        try:
            return self._api.copy(source, destination)
        except Unreadable as error:
            log.info("%s; skopeo copies it instead", error)
        self._skopeo.copy(source, destination)
        log.info("%s: skopeo engine", destination)
        return None
