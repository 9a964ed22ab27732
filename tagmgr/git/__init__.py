"""Upstream versions: git describe over a cache of partial clones."""
