"""The report of ``tagmgr schema`` without a name: the published schemas and their ``$id``."""

from __future__ import annotations

from collections.abc import Mapping

from tagmgr.report.markdown import code
from tagmgr.report.model import Report, Row, many


def listed(ids: Mapping[str, str]) -> Report:
    width = max(map(len, ids), default=0)
    return Report(
        "schema",
        {"schemas": [{"name": name, "id": schema_id} for name, schema_id in ids.items()]},
        {"schemas": len(ids)},
        rows=tuple(
            Row(f"{name:<{width}}  {schema_id}", (code(name), code(schema_id)))
            for name, schema_id in ids.items()
        ),
        columns=("name", "$id"),
        headline=many(len(ids), "schema"),
        step_summary=False,
    )
