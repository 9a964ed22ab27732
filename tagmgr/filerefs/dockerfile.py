"""Image references in Dockerfiles: ``FROM`` and ``COPY --from``.

Only the image token is replaced: ``--platform=...`` before it and ``AS name`` after it stay as
written. Stage names and ``${ARG}`` images are not references and are passed over.
"""

from __future__ import annotations

import re

from tagmgr.errors import InvalidReferenceError
from tagmgr.filerefs.site import Site, inline_site, location_at
from tagmgr.oci.reference import ImageReference

_FROM = re.compile(r"^[ \t]*FROM[ \t]+(?:--\S+[ \t]+)*(?P<image>[^\s$]+)(?=\s|$)", re.I | re.M)
_COPY_FROM = re.compile(r"^[ \t]*COPY[ \t]+(?:--\S+[ \t]+)*?--from=(?P<image>[^\s$]+)", re.I | re.M)
_STAGE = re.compile(r"^[ \t]*FROM[ \t].*?[ \t]AS[ \t]+(?P<stage>\S+)", re.I | re.M)


def is_dockerfile(name: str) -> bool:
    lowered = name.lower()
    return (
        lowered in {"dockerfile", "containerfile"}
        or lowered.startswith(("dockerfile.", "containerfile."))
        or lowered.endswith((".dockerfile", ".containerfile"))
    )


def find_in_dockerfile(file: str, text: str) -> list[Site]:
    stages = {m.group("stage").lower() for m in _STAGE.finditer(text)}
    sites = []
    for pattern in (_FROM, _COPY_FROM):
        for match in pattern.finditer(text):
            written = match.group("image")
            if written.lower() in stages:
                continue
            try:
                reference = ImageReference.parse_familiar(written)
            except InvalidReferenceError:
                continue
            start = match.start("image")
            sites.append(inline_site(location_at(file, text, start), start, written, reference))
    return sorted(sites, key=lambda s: (s.location.line, s.location.column))
