"""``tagmgr schema``: the published JSON Schemas, as the installed tagmgr checks them.

An editor validates a manifest as it is typed only if it can read the schema; inside a checkout
that is ``schemas/``, but an installed tagmgr has only the copies in its package. This command
hands those out, so ``tagmgr schema manifest > .tagmgr/manifest.schema.json`` gives an editor
exactly the rules of the tagmgr that CI runs.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from tagmgr import exitcodes
from tagmgr.commands.options import CommandTable, report_options
from tagmgr.report.publish import publish
from tagmgr.report.schemas import listed

PACKAGE = Path(__file__).resolve().parents[1]

SCHEMAS = {
    "manifest": "manifest/manifest.schema.json",
    "lock": "lock/lock.schema.json",
    "versions": "changes/versions.schema.json",
    "versions-image-map": "changes/versions-image-map.schema.json",
    "lifecycle-policy": "lifecycle/lifecycle-policy.schema.json",
    "config": "commands/config.schema.json",
}
"""Each published schema by name: its file inside the tagmgr package (a link to
``schemas/NAME.schema.json`` in a checkout, a copy in a wheel; see package-data in pyproject).
A new schema is one line here; its ``$id`` is ``urn:tagmgr:schema:NAME``."""


def register(table: CommandTable) -> None:
    command = table.add(
        "schema",
        schema,
        "print a published JSON Schema (without NAME: list them)",
        example="tagmgr schema\ntagmgr schema manifest > .tagmgr/manifest.schema.json",
    )
    command.add_argument(
        "name", nargs="?", choices=tuple(SCHEMAS), metavar="NAME", help=", ".join(SCHEMAS)
    )


def schema_text(name: str) -> str:
    return (PACKAGE / SCHEMAS[name]).read_text(encoding="utf-8")


def schema(args: argparse.Namespace) -> int:
    if args.name is not None:
        sys.stdout.write(schema_text(args.name))  # JSON already, whatever --output says
        return exitcodes.OK
    ids = {name: json.loads(schema_text(name))["$id"] for name in SCHEMAS}
    publish(listed(ids), report_options(args))
    return exitcodes.OK
