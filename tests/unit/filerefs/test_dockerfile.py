"""Dockerfiles, read as BuildKit's Dockerfile reference (moby/buildkit,
frontend/dockerfile/docs/reference.md) says the builder reads them. Each test names the section it
checks; where tagmgr deliberately differs, the test says so and docs/commands/pin-refs.md lists
it."""

from __future__ import annotations

from tagmgr.documents.splice import splice
from tagmgr.filerefs.find import find_references

D = "sha256:" + "d" * 64


def found(text: str, name: str = "Dockerfile") -> list[tuple[str, str, str]]:
    """(location, context, reference) of each reference; unreadable places as (location,
    context, "unreadable: reason")."""
    refs = find_references(name, text)
    sites = [
        (f"{s.location.line}:{s.location.column}", s.context, str(s.reference))
        for s in refs.references
    ]
    bad = [
        (f"{u.location.line}:{u.location.column}", u.context, f"unreadable: {u.reason}")
        for u in refs.unreadable
    ]
    return sites + bad


def pinned(text: str, tag: str = "v9", digest: str | None = None) -> str:
    """The text with every reference given ``tag`` (and ``digest``); an unchangeable one stays,
    its reason put in place of the text so a test sees it."""
    refs = find_references("Dockerfile", text)
    edits = []
    for site in refs.references:
        rewrite = site.rewrite(tag, digest)
        assert not isinstance(rewrite, str), rewrite
        edits += [e for e in rewrite if e not in edits]
    return splice(text, edits)


def reasons(text: str) -> list[str]:
    refs = find_references("Dockerfile", text)
    return [r for s in refs.references if isinstance(r := s.rewrite("v9", None), str)]


LIB = "docker.io/library"


def test_format_instructions_any_case_leading_blanks_and_comments() -> None:
    """ "Format": instructions are not case-sensitive; leading whitespace before instructions
    and comments is ignored; a line that begins with # is a comment."""
    text = "# FROM not:this\n  from nginx:1.20\n\t# from nor:this\nRUN echo '# FROM nor:that'\n"
    assert found(text) == [("2:8", "FROM", f"{LIB}/nginx:1.20")]
    assert pinned(text) == text.replace("nginx:1.20", "nginx:v9")


def test_format_line_continuation_joins_lines_without_a_space() -> None:
    """ "Format" and "escape": the escape character at the end of a line continues the
    instruction; comment lines and empty lines inside are removed; the next line is joined as
    written, so ``FROM\\`` then an unindented ``nginx`` reads ``FROMnginx``, an instruction
    BuildKit does not know."""
    text = (
        "FROM \\\nnginx:1.20 AS a\n"
        "FROM\\\n  nginx:1.21 \\\n# a comment\n\n   AS b\n"
        "COPY \\\n  --from=nginx:1.22 /a /b\n"
        "FROM\\\nnginx:1.23\n"
    )
    assert found(text) == [
        ("2:1", "FROM", f"{LIB}/nginx:1.20"),
        ("4:3", "FROM", f"{LIB}/nginx:1.21"),
        ("9:10", "COPY --from", f"{LIB}/nginx:1.22"),
        ("10:1", "", "unreadable: unknown instruction FROMNGINX:1.23: BuildKit refuses the file"),
    ]
    assert pinned(text) == (
        "FROM \\\nnginx:v9 AS a\n"
        "FROM\\\n  nginx:v9 \\\n# a comment\n\n   AS b\n"
        "COPY \\\n  --from=nginx:v9 /a /b\n"
        "FROM\\\nnginx:1.23\n"
    )


def test_a_word_split_across_lines_is_read_and_never_edited() -> None:
    """ "Format": a continuation joins the characters, so an image can be split mid-word."""
    text = "FROM ngi\\\nnx:1.\\\n20\n"
    assert found(text) == [("1:6", "FROM", f"{LIB}/nginx:1.20")]
    assert reasons(text) == ["its tag is split across lines; edit it by hand"]


def test_escaped_escape_character_is_no_continuation() -> None:
    """ "escape": the escape character continues a line unless it is itself escaped."""
    text = "FROM nginx:1.20\nRUN echo a\\\\\nFROM busybox:1.36\n"
    assert [f[2] for f in found(text)] == [f"{LIB}/nginx:1.20", f"{LIB}/busybox:1.36"]


def test_escape_directive_backtick() -> None:
    """ "escape": ``# escape=``` makes the backtick the escape and continuation character, and
    the backslash an ordinary one (Windows paths)."""
    text = (
        "# escape=`\n\n"
        "FROM mcr.microsoft.com/windows/servercore:ltsc2022 `\n  AS build\n"
        "COPY testfile.txt c:\\\n"
        "FROM `\nnginx:1.20\n"
        "COPY `\n  --from=build c:\\a c:\\b\n"
    )
    assert found(text) == [
        ("3:6", "FROM", "mcr.microsoft.com/windows/servercore:ltsc2022"),
        ("7:1", "FROM", f"{LIB}/nginx:1.20"),
    ]
    assert pinned(text) == text.replace("ltsc2022", "v9").replace("nginx:1.20", "nginx:v9")


def test_parser_directives_only_at_the_very_top() -> None:
    """ "Parser directives": any case, blanks allowed around the name and value; once a
    comment, an empty line or an instruction is read, a directive is a comment."""
    top = "#  SYNTAX = docker/dockerfile:1.7\n#\tescape=`\nFROM nginx:1.20 `\n  AS a\n"
    assert found(top) == [
        ("1:13", "# syntax", "docker.io/docker/dockerfile:1.7"),
        ("3:6", "FROM", f"{LIB}/nginx:1.20"),
    ]
    assert pinned(top).splitlines()[0] == "#  SYNTAX = docker/dockerfile:v9"
    after_comment = "# About my dockerfile\n# syntax=docker/dockerfile:1\nFROM a/b:1\n"
    after_blank = "\n# syntax=docker/dockerfile:1\nFROM a/b:1\n"
    after_unknown = "# unknowndirective=value\n# syntax=docker/dockerfile:1\nFROM a/b:1\n"
    for text in (after_comment, after_blank, after_unknown):
        assert [f[1] for f in found(text)] == ["FROM"], text


def test_syntax_directive_names_an_image() -> None:
    """ "syntax": the directive names the frontend image BuildKit pulls, so it is a reference,
    pinned like any other (``docker/dockerfile:1`` is Docker Hub's)."""
    text = "# syntax=docker.io/docker/dockerfile:1@sha256:" + "a" * 64 + "\nFROM scratch\n"
    assert found(text) == [("1:10", "# syntax", f"docker.io/docker/dockerfile:1@sha256:{'a' * 64}")]
    assert pinned(text, "1.9", D) == f"# syntax=docker.io/docker/dockerfile:1.9@{D}\nFROM scratch\n"


def test_a_repeated_directive_is_unreadable() -> None:
    """ "Parser directives": a directive may only be used once; BuildKit refuses the file."""
    text = "# syntax=docker/dockerfile:1\n# syntax=docker/dockerfile:1.7\nFROM a/b:1\n"
    assert found(text)[-1] == (
        "2:10",
        "",
        "unreadable: a second syntax directive; BuildKit refuses it",
    )


def test_byte_order_mark_is_not_text() -> None:
    """BuildKit's parser drops a UTF-8 byte order mark before the first line, so a directive
    and an instruction there are read; the mark stays in the file and takes no column."""
    text = "\ufeff# syntax=docker/dockerfile:1\nFROM nginx:1.20\n"
    assert found(text) == [
        ("1:10", "# syntax", "docker.io/docker/dockerfile:1"),
        ("2:6", "FROM", f"{LIB}/nginx:1.20"),
    ]
    assert pinned("\ufeffFROM nginx:1.20\n") == "\ufeffFROM nginx:v9\n"


def test_crlf_line_endings() -> None:
    text = "FROM \\\r\n  nginx:1.20 AS a\r\nCOPY --from=a /x /y\r\n"
    assert found(text) == [("2:3", "FROM", f"{LIB}/nginx:1.20")]
    assert pinned(text) == text.replace("1.20", "v9")


def test_from_scratch_stages_and_flags() -> None:
    """ "FROM": ``scratch`` is no image; ``AS name`` names a stage that a later ``FROM``, and
    ``COPY --from`` (by name or index), use; ``--platform`` is a flag, not the image. A name
    used before the stage it names is an image (BuildKit resolves FROM against earlier stages)."""
    text = (
        "FROM --platform=$BUILDPLATFORM golang:1.22 AS Build\n"
        "FROM scratch\n"
        "COPY --from=build /out /out\n"
        "COPY --from=0 /out /again\n"
        "FROM build AS test\n"
        "FROM test\n"
        "FROM later:1\n"
        "FROM alpine:3.20 AS later\n"
    )
    assert found(text) == [
        ("1:32", "FROM", f"{LIB}/golang:1.22"),
        ("7:6", "FROM", f"{LIB}/later:1"),
        ("8:6", "FROM", f"{LIB}/alpine:3.20"),
    ]
    assert pinned(text, "v9", D) == (
        text.replace("golang:1.22", f"golang:v9@{D}")
        .replace("later:1", f"later:v9@{D}")
        .replace("alpine:3.20", f"alpine:v9@{D}")
    )


def test_copy_from_image_and_run_mount_from() -> None:
    """ "COPY --from" names an image, a stage or a named context; "RUN --mount=type=bind"
    takes ``from=`` (an image or a stage) among comma-separated options, as cache mounts do."""
    text = (
        "FROM alpine:3.20 AS base\n"
        "COPY --chown=1 --from=nginx:1.20 /etc/nginx/nginx.conf /nginx.conf\n"
        "RUN --mount=from=golang:1.22,source=/usr/local/go,target=/go \\\n"
        "    --mount=type=bind,from=base,target=/b \\\n"
        "    --mount=type=cache,target=/root/.cache,FROM=busybox:1.36 go build\n"
        "ONBUILD COPY --from=redis:7 /usr/local/bin/redis-cli /bin/\n"
    )
    assert found(text) == [
        ("1:6", "FROM", f"{LIB}/alpine:3.20"),
        ("2:23", "COPY --from", f"{LIB}/nginx:1.20"),
        ("3:18", "RUN --mount from", f"{LIB}/golang:1.22"),
        ("5:49", "RUN --mount from", f"{LIB}/busybox:1.36"),
        ("6:21", "ONBUILD COPY --from", f"{LIB}/redis:7"),
    ]
    assert pinned(text) == (
        text.replace("alpine:3.20", "alpine:v9")
        .replace("nginx:1.20", "nginx:v9")
        .replace("golang:1.22", "golang:v9")
        .replace("busybox:1.36", "busybox:v9")
        .replace("redis:7", "redis:v9")
    )


def test_variables_in_from_flags_are_refused_as_buildkit_refuses_them() -> None:
    """BuildKit's builder refuses a variable in ``COPY --from`` ("variable expansion is not
    supported for --from") and in a mount's ``from``: unreadable, never rewritten."""
    text = (
        "FROM mcr.microsoft.com/dotnet/sdk:5.0 AS build\n"
        "COPY --from=mcr.microsoft.com/dotnet/sdk:5.0${IMAGESUFFIX} /a /b\n"
        "RUN --mount=from=$TOOLS,target=/t true\n"
    )
    reason = "unreadable: BuildKit does not fill in variables here; name the image, or a stage"
    assert found(text)[1:] == [
        ("2:13", "COPY --from", reason),
        ("3:18", "RUN --mount from", reason),
    ]


def test_here_documents_are_not_instructions() -> None:
    """ "Here-Documents": the lines up to the delimiter belong to the RUN or COPY."""
    text = (
        "FROM alpine:3.20\n"
        "RUN <<EOT bash\nFROM not:this\nEOT\n"
        "COPY <<-'EOF' /script.sh\n\tFROM nor:this\n\tEOF\n"
        "FROM busybox:1.36\n"
    )
    assert [f[2] for f in found(text)] == [f"{LIB}/alpine:3.20", f"{LIB}/busybox:1.36"]


def test_arg_before_from_is_the_reference() -> None:
    """ "Understand how ARG and FROM interact": FROM uses the ARGs declared before the first
    FROM; the default is the reference, and pinning edits the default. ``$BASE`` used by two
    FROMs is one reference, written once."""
    text = "ARG BASE=nginx:1.20\nFROM $BASE AS a\nFROM ${BASE} AS b\n"
    assert found(text) == [("1:10", "FROM $BASE", f"{LIB}/nginx:1.20")]
    assert pinned(text, "v9", D) == text.replace("nginx:1.20", f"nginx:v9@{D}")


def test_arg_modifiers_environment_replacement() -> None:
    """ "Environment replacement": ``${var:-word}`` is word when var is unset or empty,
    ``${var-word}`` when unset, ``${var:+word}`` word when set and non-empty; the word is the
    reference to pin when it is the value."""
    text = (
        'ARG UNSET\nARG EMPTY=""\nARG GO=1.22 SET=yes\nARG REGISTRY=registry.example.com\n'
        "FROM ${UNSET:-nginx:1.20}\n"
        "FROM ${UNSET-busybox}:${EMPTY:-1.36}\n"
        "FROM ${REGISTRY}/team/app:${SET:+2.0}\n"
        "FROM golang:$GO\n"
    )
    assert found(text) == [
        ("5:15", "FROM ${UNSET:-nginx:1.20}", f"{LIB}/nginx:1.20"),
        ("6:14", "FROM ${UNSET-busybox}:${EMPTY:-1.36}", f"{LIB}/busybox:1.36"),
        ("4:14", "FROM ${REGISTRY}/team/app:${SET:+2.0}", "registry.example.com/team/app:2.0"),
        ("8:6", "FROM golang:$GO", f"{LIB}/golang:1.22"),
    ]
    assert pinned(text) == text.replace("nginx:1.20", "nginx:v9").replace(
        ":-1.36}", ":-v9}"
    ).replace(":+2.0}", ":+v9}").replace("GO=1.22", "GO=v9")


def test_arg_shared_by_two_images_is_never_edited() -> None:
    """ "Understand how ARG and FROM interact": ``base:${CODE_VERSION}`` and
    ``extras:${CODE_VERSION}`` share one default; pinning one would move the other, so neither
    is edited. Nor is an ARG a stage also uses."""
    shared = "ARG  CODE_VERSION=latest\nFROM base:${CODE_VERSION}\nFROM extras:${CODE_VERSION}\n"
    assert [f[2] for f in found(shared)] == [f"{LIB}/base:latest", f"{LIB}/extras:latest"]
    reason = "its tag is in the default of ARG CODE_VERSION, which more than this image uses;"
    assert reasons(shared) == [f"{reason} edit it by hand"] * 2
    used = "ARG V=1.25\nFROM nginx:${V}\nARG V\nRUN curl -O https://nginx.org/nginx-$V.tar.gz\n"
    assert reasons(used) == [
        "its tag is in the default of ARG V, which more than this image uses; edit it by hand"
    ]


def test_a_tag_followed_by_a_variable_is_read_never_rewritten() -> None:
    """ "Environment replacement": an undeclared variable is empty, so BuildKit pulls
    ``sdk:5.0``; its tag runs into the variable, so no rewrite can be right."""
    text = "FROM mcr.microsoft.com/dotnet/sdk:5.0${IMAGESUFFIX} AS build\n"
    assert found(text) == [
        (
            "1:6",
            "FROM mcr.microsoft.com/dotnet/sdk:5.0${IMAGESUFFIX}",
            "mcr.microsoft.com/dotnet/sdk:5.0",
        )
    ]
    assert reasons(text) == ["its tag is joined to ${IMAGESUFFIX}; edit it by hand"]
    suffixed = "ARG IMAGESUFFIX=-alpine\nFROM mcr.microsoft.com/dotnet/sdk:5.0${IMAGESUFFIX}\n"
    assert [f[2] for f in found(suffixed)] == ["mcr.microsoft.com/dotnet/sdk:5.0-alpine"]
    assert reasons(suffixed) == ["its tag is joined to ${IMAGESUFFIX}; edit it by hand"]


def test_arg_scope_what_the_file_cannot_tell_is_unreadable() -> None:
    """ "ARG" > "Scope" and "Automatic platform ARGs in the global scope": an ARG with no
    default gets its value at build time; a platform ARG depends on the build; an ARG declared
    after the first FROM is not seen by FROM (it is empty there). Each is listed, located."""
    text = (
        "ARG BASE\n"
        "FROM $BASE\n"
        "FROM app:${TARGETARCH}\n"
        "ARG LATER=nginx:1.20\n"
        "FROM ${LATER}\n"
        "FROM ${BASE#docker.io/}\n"
    )
    assert found(text) == [
        ("2:6", "FROM", "unreadable: ARG BASE has no default: its value is given at build time"),
        ("3:6", "FROM", "unreadable: $TARGETARCH depends on the platform of the build"),
        (
            "5:6",
            "FROM",
            "unreadable: the image name is empty: FROM sees only the ARGs declared before the"
            " first FROM",
        ),
        (
            "6:6",
            "FROM",
            "unreadable: ${BASE#docker.io/} is a substitution tagmgr does not evaluate",
        ),
    ]


def test_not_an_image_is_unreadable() -> None:
    """ "FROM": the image must be a valid reference; BuildKit refuses the file otherwise."""
    assert found("FROM Nginx:1.20\n") == [
        (
            "1:6",
            "FROM",
            "unreadable: not an image reference ('docker.io/Nginx:1.20': path component 'Nginx'"
            " must be lowercase)",
        )
    ]


def test_deliberate_difference_quoted_from_values() -> None:
    """BuildKit reads ``--from="nginx:1.20"`` as nginx:1.20; tagmgr reads a value wrapped in one
    pair of quotes the same way, and lists one with quotes or escapes inside as unreadable rather
    than guess where its characters are."""
    text = 'FROM a/b:1 AS a\nCOPY --from="nginx:1.20" /a /b\nCOPY --from=ng"inx:1.20" /a /b\n'
    assert found(text)[1:] == [
        ("2:14", "COPY --from", f"{LIB}/nginx:1.20"),
        ("3:13", "COPY --from", "unreadable: written with quotes or escapes"),
    ]


def test_deliberate_difference_syntax_only_as_a_parser_directive() -> None:
    """BuildKit also finds the frontend in ``//syntax=`` and after a shebang line; tagmgr reads
    the ``# syntax=`` parser directive only, as the reference documents it."""
    assert found("#!/usr/bin/env buildctl\n# syntax=docker/dockerfile:1\nFROM a/b:1\n") == [
        ("3:6", "FROM", "docker.io/a/b:1")
    ]
