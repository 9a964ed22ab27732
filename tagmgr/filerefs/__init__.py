"""Image references in files: YAML, Dockerfiles and text, found one way for every caller."""
