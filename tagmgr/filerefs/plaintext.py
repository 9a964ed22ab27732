"""Image references in any other text (READMEs, scripts, .env files): a word that parses as a
reference with a tag or digest, written with at least one '/' so prose words never count.

A word followed by a variable (``sdk:5.0${SUFFIX}``, ``app:$TAG``) is not a reference: its tag
is only known once a shell fills the variable in, so it is passed over whole, never shortened.
"""

from __future__ import annotations

import re

from tagmgr.errors import InvalidReferenceError
from tagmgr.filerefs.site import Lines, Site, inline_site
from tagmgr.oci.reference import ImageReference

# The word is matched atomically, so a word that fails the look-ahead is not retried shorter.
_WORD = re.compile(
    r"(?<![\w.:/@$-])(?>"
    r"(?:[A-Za-z0-9.-]+(?::[0-9]+)?/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
    r"(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*"
    r"(?::[A-Za-z0-9_][A-Za-z0-9._-]{0,127})?(?:@[a-z0-9]+:[a-f0-9]+)?"
    r")(?![\w/@:${-])"
)


def find_in_text(file: str, text: str) -> list[Site]:
    sites, lines = [], Lines(file, text)
    for match in _WORD.finditer(text):
        written = match.group().rstrip(".")  # the end of a sentence is not part of a tag
        if "/" not in written or ("@" not in written and ":" not in written.rpartition("/")[2]):
            continue
        try:
            reference = ImageReference.parse_familiar(written)
        except InvalidReferenceError:
            continue
        start = match.start()
        sites.append(inline_site(lines.location(start), start, written, reference))
    return sites
