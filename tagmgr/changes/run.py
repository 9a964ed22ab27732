"""The bodies of ``diff`` and ``versions``, imported only when one of them runs."""

from __future__ import annotations

import argparse
import sys

from tagmgr.changes.diff import diff_images
from tagmgr.changes.ignore import IgnoreRules, load_ignore_file
from tagmgr.changes.report import write_diff
from tagmgr.changes.verdict import diff_exit_code
from tagmgr.commands.options import open_registries
from tagmgr.reference import ImageReference


def diff(args: argparse.Namespace) -> int:
    ignore = load_ignore_file(args.ignore) if args.ignore else IgnoreRules()
    mapping = dict(args.map_registry)
    a, b = (_mapped(ref, mapping) for ref in (args.a, args.b))
    with open_registries(args) as registries:
        result = diff_images(registries, a, b, ignore)
    write_diff(result, args.output, sys.stdout)
    return diff_exit_code([result.verdict])


def _mapped(reference: ImageReference, mapping: dict[str, str]) -> ImageReference:
    return reference.with_registry(mapping.get(reference.registry, reference.registry))
