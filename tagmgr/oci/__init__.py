"""OCI value types: image references, media types, descriptors with their platform, and the one
parser of manifests, indexes and configs."""
