"""The error tree: every failure a user can act on is a ``TagmgrError``.

::

    TagmgrError                  user-facing, exit code 1, one clear message, no traceback
    ├── ManifestError            invalid manifest: a list of located problems
    │   └── LockError            invalid lock file: located problems too
    ├── InvalidReferenceError    an image reference that does not parse
    ├── RegistryError            a registry answered badly or not at all (names the registry)
    │   ├── AuthenticationError  credentials missing or refused
    │   ├── CertificateError     TLS certificate not trusted
    │   └── TransientWriteError  a write failed as another try may mend, and was sent once
    ├── CredentialsError         an auth file or credential helper that cannot be used
    ├── CommandError             a subprocess failed (command shown with secrets redacted)
    ├── DockerError              a Docker daemon unreachable, or refusing a request
    ├── CopyRefused              an engine that cannot copy exactly, said before writing anything
    └── GitVersionError          an upstream commit that cannot be described

Anything else escaping to the top is a bug: ``cli.main`` prints a short note and exit code 3.
"""

from __future__ import annotations

from typing import NamedTuple


class TagmgrError(Exception):
    """A failure the user can understand and act on."""


class Location(NamedTuple):
    """A place in a file; line and column count from 1."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


class Problem(NamedTuple):
    """One finding in a manifest, rendered as ``FILE:LINE:COL: field: message``."""

    location: Location
    field: str
    message: str

    def __str__(self) -> str:
        field = f"{self.field}: " if self.field else ""
        return f"{self.location}: {field}{self.message}"


class ManifestError(TagmgrError):
    """One or more problems in manifest files; all of them, not only the first."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems, key=_problem_order)
        super().__init__("\n".join(str(p) for p in self.problems))


def _problem_order(problem: Problem) -> tuple[str, int, int, str]:
    loc = problem.location
    return (loc.file, loc.line, loc.column, problem.field)


class LockError(ManifestError):
    """One or more problems in a lock file, located as a manifest's are."""


class InvalidReferenceError(TagmgrError):
    """An image reference that does not follow the distribution grammar."""


class RegistryError(TagmgrError):
    """A registry request failed; the message names the registry."""

    def __init__(self, registry: str, message: str) -> None:
        self.registry = registry
        super().__init__(f"registry {registry}: {message}")


class AuthenticationError(RegistryError):
    """The registry refused the credentials, or asked for some and none were found."""


class CertificateError(RegistryError):
    """The registry's TLS certificate is not trusted."""


class TransientWriteError(RegistryError):
    """A write failed in a way another try may mend (a 5xx, no answer), and the client did not
    send it again, as sending it twice is not known to be safe; its owner may redo the whole
    operation it was part of."""


class CredentialsError(TagmgrError):
    """An auth file or credential helper that cannot be read."""


class CommandError(TagmgrError):
    """A subprocess exited non-zero or could not be started."""


class DockerError(TagmgrError):
    """A Docker daemon could not be reached or refused a request; the message names it."""


class CopyRefused(TagmgrError):
    """A copy engine declines a copy it could not make byte for byte; nothing was written, and
    trying again would decline again."""


class GitVersionError(TagmgrError):
    """An upstream repository or commit that cannot give a version."""
