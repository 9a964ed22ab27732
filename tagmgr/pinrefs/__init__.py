"""pin-refs: find image references in charts, manifests, compose files, Dockerfiles and text,
and move them to the reviewed stable tag (and digest), changing only the reference's characters.

The one finder (``tagmgr.filerefs``, which in-use reads too) yields ``Site`` values; ``pins``
decides, without I/O, what each one should become, and ``plan`` what pin-refs does with every
file and which exit code that makes; ``edit`` turns the decisions into byte-range splices and a
unified diff.
"""
