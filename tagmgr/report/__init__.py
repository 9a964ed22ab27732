"""Reporters: the only code that formats what tagmgr tells a person or a program.

A command hands its results to its group's module here (``core``, ``digests``, ``pinrefs``,
``lifecycle``, ``changes``, ``schemas``), which makes one ``model.Report`` of them; ``publish``
renders it in the format ``--output`` names (``formats.FORMATS``: text, json, markdown) and adds
the Markdown to a CI job summary. ``progress`` draws the counter a terminal shows meanwhile.
The core never prints.
"""

from tagmgr.report.publish import report_error

__all__ = ["report_error"]
