"""`make coverage`: statement coverage per package of tagmgr, from coverage.py's JSON report.

Usage: coverage_table.py COVERAGE_JSON. Modules at the top of ``tagmgr/`` count as one row,
``tagmgr``; each sub-package is a row of its own.
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import PurePosixPath


def package_of(path: str) -> str:
    parts = PurePosixPath(path).parts
    start = parts.index("tagmgr")
    return ".".join(parts[start : start + 2]) if len(parts) - start > 2 else "tagmgr"


def table(report: dict[str, dict[str, dict[str, dict[str, int]]]]) -> list[str]:
    statements: dict[str, int] = defaultdict(int)
    missed: dict[str, int] = defaultdict(int)
    for path, measured in report["files"].items():
        package = package_of(path)
        statements[package] += measured["summary"]["num_statements"]
        missed[package] += measured["summary"]["missing_lines"]
    rows = [f"{'package':<20} {'stmts':>6} {'miss':>6} {'cover':>6}"]
    for package in sorted(statements):
        rows.append(_row(package, statements[package], missed[package]))
    rows.append(_row("TOTAL", sum(statements.values()), sum(missed.values())))
    return rows


def _row(name: str, statements: int, missed: int) -> str:
    covered = 100 * (statements - missed) / statements if statements else 100.0
    return f"{name:<20} {statements:>6} {missed:>6} {covered:>5.0f}%"


if __name__ == "__main__":
    with open(sys.argv[1], encoding="utf-8") as file:
        print("\n".join(table(json.load(file))))
