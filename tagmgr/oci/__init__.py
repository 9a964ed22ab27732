"""OCI value types: image references and content descriptors."""
