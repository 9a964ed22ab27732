"""The error tree: every failure a user can act on is a ``TagmgrError``.

::

    TagmgrError                  user-facing, exit code 1, one clear message, no traceback
    ├── DocumentError            a file that cannot be read as what it should be: located problems
    │   ├── ManifestError        a manifest
    │   ├── LockError            a lock file
    │   ├── ConfigError          a configuration file (.tagmgr.yaml)
    │   ├── VersionsError        a versions file
    │   ├── IgnoreError          an ignore file (diff --ignore)
    │   └── PolicyError          an ECR lifecycle policy
    ├── InvalidReferenceError    an image reference that does not parse
    ├── ChainError               an environment chain that cannot be used (manifest.environments)
    ├── RegistryError            a registry answered badly or not at all (names the registry)
    │   ├── AuthenticationError  credentials missing or refused
    │   ├── CertificateError     TLS certificate not trusted
    │   └── TransientWriteError  a write failed as another try may mend, and was sent once
    ├── ImageFormatError         a manifest, index or config that is not as the image spec has it
    ├── CredentialsError         an auth file or credential helper that cannot be used
    ├── CommandError             a subprocess failed (command shown with secrets redacted)
    ├── DockerError              a Docker daemon unreachable, or refusing a request
    ├── CopyRefused              an engine that cannot copy exactly, said before writing anything
    ├── Unreadable               a manifest the api engine does not understand (engines.api)
    ├── DeadlineExceeded         an entry that took longer than its deadline (engines.api)
    ├── GitVersionError          an upstream commit that cannot be described
    ├── PromotionRefused         a promotion or rollback the chain or history forbids (lifecycle)
    ├── ImageFormatError         a manifest or config diff cannot read (changes.images)
    └── LayerFormatError         a layer diff cannot read (changes.streams)

``DocumentError`` itself is raised for files other tools write (Kubernetes, compose and Helm
files, kubectl's pod lists, the trees pin-refs edits). Anything else escaping to the top is a bug:
``cli.main`` prints a short note and exit code 3.
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
    """One finding in a file, rendered as ``FILE:LINE:COL: field: message``."""

    location: Location
    field: str
    message: str

    def __str__(self) -> str:
        field = f"{self.field}: " if self.field else ""
        return f"{self.location}: {field}{self.message}"


class DocumentError(TagmgrError):
    """One or more problems in files; all of them, not only the first, in file and line order."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems, key=_problem_order)
        super().__init__("\n".join(str(p) for p in self.problems))


def _problem_order(problem: Problem) -> tuple[str, int, int, str]:
    loc = problem.location
    return (loc.file, loc.line, loc.column, problem.field)


class ManifestError(DocumentError):
    """Problems in manifest files."""


class LockError(DocumentError):
    """Problems in a lock file."""


class ConfigError(DocumentError):
    """Problems in a configuration file."""


class VersionsError(DocumentError):
    """Problems in a versions file, or in what it is asked to export."""


class IgnoreError(DocumentError):
    """Problems in an ignore file of path patterns."""


class PolicyError(DocumentError):
    """Problems in an ECR lifecycle policy, or what tagmgr cannot do of it."""


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


class ImageFormatError(TagmgrError):
    """A manifest, index or config that is not what the OCI image spec or Docker's schema 2 has;
    the message names the document and the field."""


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
