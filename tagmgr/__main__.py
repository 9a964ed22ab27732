"""``python -m tagmgr`` and the ``tagmgr`` program: tagmgr's signal handling from its first line.

SIGINT and SIGTERM are tagmgr's before anything heavy is imported: one that comes while the rest
of tagmgr is imported stops it at once with its exit code (130, 143), never with Python's
``KeyboardInterrupt`` and its traceback; nothing has started. What runs before this module (the
interpreter's own start-up, ``site``, the package's ``__init__``) is left to Python: the window
is measured in docs/reference/interruptions.md.
"""

try:
    from tagmgr.system import interrupt

    interrupt.install()
except KeyboardInterrupt:  # a SIGINT before the line above had run: nothing to tidy up
    import os

    os._exit(130)  # exitcodes.INTERRUPTED

import gc  # after the handlers, as everything else

# A run is short and makes few reference cycles: the collector's passes over young objects,
# some sixty in a plan of 1,000 entries, cost it 3 to 4 ms (docs/design.md). mypy sets the
# same threshold.
gc.set_threshold(200_000, 30, 30)


def run() -> None:
    from tagmgr.cli import run as main  # noqa: PLC0415 - once the handlers are in place

    main()


if __name__ == "__main__":
    run()
