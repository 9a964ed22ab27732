"""Reviewed text files: reading, located YAML, traps, splices and atomic writes."""
