"""Making registries agree with manifests: targets, inventory, a pure plan, apply, outcome."""
