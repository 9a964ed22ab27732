"""The sub-commands, one module per group; each module's ``register`` adds its own.

A new group is a module here with ``register(table: CommandTable) -> None`` and a line in
``GROUPS``; ``cli`` wires them, and nothing else about the command line changes.
"""

from __future__ import annotations

from tagmgr.commands import changes, core, digests, lifecycle, pinrefs, schemas

GROUPS = (core, digests, pinrefs, lifecycle, changes, schemas)
