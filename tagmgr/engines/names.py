"""The copy engines' names, without importing them: the command line needs only the names."""

ENGINE_NAMES = ("api", "auto", "docker", "skopeo")
DEFAULT_ENGINE = "auto"
