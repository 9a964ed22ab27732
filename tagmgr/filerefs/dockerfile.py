"""Image references in Dockerfiles, as BuildKit reads them: ``FROM``, ``COPY --from``,
``RUN --mount=...,from=``, ``ONBUILD COPY --from`` and the ``# syntax=`` parser directive.

Not images, and never touched: ``FROM scratch``, an earlier stage's name (``FROM build``),
a stage name or index in ``--from`` (``COPY --from=0``). A ``FROM`` image made of ARGs is read
with their defaults (``ARG BASE=nginx:1.20`` then ``FROM $BASE`` is ``nginx:1.20``, and pinning
it edits the ARG's default); one whose value the file cannot tell (an ARG with no default, a
platform ARG, ``--from=$X``, which BuildKit refuses) is unreadable, with its location. Only the
tag and digest's characters change, and only where they are written whole in one place: never
in a tag followed by a variable (``sdk:5.0${SUFFIX}``), nor in an ARG that anything else uses.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from tagmgr.documents.splice import Edit
from tagmgr.errors import InvalidReferenceError
from tagmgr.filerefs.dockerargs import GlobalArgs, Piece, Unknown, Value, text_of
from tagmgr.filerefs.dockerlex import Instruction, Word, instruction_of, parse_dockerfile
from tagmgr.filerefs.site import (
    Found,
    Lines,
    Rewrite,
    Site,
    Unreadable,
    is_template,
    name_part,
    unchangeable,
)
from tagmgr.oci.reference import ImageReference

INSTRUCTIONS = frozenset(
    [
        "ADD",
        "ARG",
        "CMD",
        "COPY",
        "ENTRYPOINT",
        "ENV",
        "EXPOSE",
        "FROM",
        "HEALTHCHECK",
        "LABEL",
        "MAINTAINER",
        "ONBUILD",
        "RUN",
        "SHELL",
        "STOPSIGNAL",
        "USER",
        "VOLUME",
        "WORKDIR",
    ]
)
SCRATCH = "scratch"
_USE = re.compile(r"\$\{?([A-Za-z0-9_]+)")


def is_dockerfile(name: str) -> bool:
    """``Dockerfile``, ``Containerfile``, ``Dockerfile.dev``, ``Dockerfile-dev``,
    ``app.dockerfile``: names BuildKit's users give them."""
    lowered = name.lower()
    return lowered.endswith((".dockerfile", ".containerfile")) or any(
        lowered == base or lowered.startswith((f"{base}.", f"{base}-", f"{base}_"))
        for base in ("dockerfile", "containerfile")
    )


@dataclass(frozen=True)
class _Candidate:
    word: Word  # as written
    value: Value  # what the builder makes of it
    context: str


def find_in_dockerfile(file: str, text: str) -> Found:
    reader = _Reader(file, text)
    reader.read()
    return reader.finish()


class _Reader:
    def __init__(self, file: str, text: str) -> None:
        self.text, self.lines = text, Lines(file, text)
        self.parsed = parse_dockerfile(text)
        self.args = GlobalArgs(self.parsed.escape)
        self.in_stage = False  # after the first FROM, an ARG is a stage's, not FROM's
        self.stages: set[str] = set()  # names of the stages so far, as FROM can name them
        self.all_stages = {
            i.args[2].text.lower()
            for i in self.parsed.instructions
            if i.keyword == "FROM" and len(i.args) >= 3 and i.args[1].text.lower() == "as"
        }
        self.candidates: list[_Candidate] = []
        self.found = Found()

    def read(self) -> None:
        for offset, problem in self.parsed.problems:
            self.unreadable(offset, "", "", problem)
        syntax = self.parsed.directives.get("syntax")
        if syntax is not None:
            self.candidates.append(_Candidate(syntax, _pieces(syntax), "# syntax"))
        for instruction in self.parsed.instructions:
            self.instruction(instruction, "")

    def instruction(self, instruction: Instruction, prefix: str) -> None:
        keyword = instruction.keyword
        if keyword == "ARG" and not self.in_stage:
            for word in instruction.args:
                self.args.declare(word)
        elif keyword == "FROM" and not prefix:
            self.from_(instruction)
        elif keyword == "COPY":
            self.flag_values(instruction, "--from=", f"{prefix}COPY --from")
        elif keyword == "RUN":
            self.mounts(instruction, prefix)
        elif keyword == "ONBUILD" and instruction.args and not prefix:
            self.instruction(instruction_of(list(instruction.args)), "ONBUILD ")
        elif keyword not in INSTRUCTIONS:
            words = " ".join(w.text for w in (*instruction.flags, *instruction.args))
            reason = f"unknown instruction {keyword}: BuildKit refuses the file"
            template = is_template(f"{keyword} {words}")  # a line of Dockerfile.j2, say
            self.unreadable(instruction.start, "", words, reason, template)

    def from_(self, instruction: Instruction) -> None:
        args = instruction.args
        if args:
            self.from_image(args[0])
        self.in_stage = True
        if len(args) >= 3 and args[1].text.lower() == "as":
            self.stages.add(args[2].text.lower())

    def from_image(self, word: Word) -> None:
        try:
            value = self.args.expand(word)
        except Unknown as unknown:
            self.unreadable(word.start, "FROM", word.text, str(unknown))
            return
        image = text_of(value)
        if image == SCRATCH or image in self.stages:
            return
        if not image:
            reason = (
                "the image name is empty: FROM sees only the ARGs declared before the first FROM"
            )
            self.unreadable(word.start, "FROM", word.text, reason)
            return
        context = "FROM" if "$" not in word.text else f"FROM {word.text}"
        self.candidates.append(_Candidate(word, value, context))

    def flag_values(self, instruction: Instruction, flag: str, context: str) -> None:
        for word in instruction.flags:
            if word.text.startswith(flag):
                self.stage_or_image(word[len(flag) :], context, index_is_stage=True)

    def mounts(self, instruction: Instruction, prefix: str) -> None:
        """``--mount=[type=bind,]from=IMAGE,...``: comma-separated options, ``from`` naming a
        stage or an image."""
        for word in instruction.flags:
            if not word.text.startswith("--mount="):
                continue
            options = word[len("--mount=") :]
            start = 0
            for end in [*(i for i, c in enumerate(options.text) if c == ","), len(options.text)]:
                option = options[start:end]
                if option.text.lower().startswith("from="):
                    self.stage_or_image(option[5:], f"{prefix}RUN --mount from", False)
                start = end + 1

    def stage_or_image(self, word: Word, context: str, index_is_stage: bool) -> None:
        if len(word.text) >= 2 and word.text[0] == word.text[-1] and word.text[0] in "'\"":
            word = word[1:-1]
        name = word.text
        if not name or name.lower() in self.all_stages or (index_is_stage and name.isdigit()):
            return
        if "$" in name:
            reason = "BuildKit does not fill in variables here; name the image, or a stage"
            self.unreadable(word.start, context, name, reason)
        elif any(c in name for c in ("'", '"', self.parsed.escape)):
            self.unreadable(word.start, context, name, "written with quotes or escapes")
        else:
            self.candidates.append(_Candidate(word, _pieces(word), context))

    def unreadable(
        self, offset: int, context: str, written: str, reason: str, template: bool = False
    ) -> None:
        location = self.lines.location(offset)
        template = template or is_template(written)
        self.found.unreadable.append(Unreadable(location, context, written, reason, template))

    def finish(self) -> Found:
        shared = _shared_args(self.text, self.candidates)
        # FROM $BASE twice is one reference, written once, in the ARG's default
        once = {c.value: c for c in reversed(self.candidates)}
        for candidate in self.candidates:
            if once[candidate.value] is not candidate:
                continue
            image = text_of(candidate.value)
            try:
                reference = ImageReference.parse_familiar(image)
            except InvalidReferenceError as error:
                reason = f"not an image reference ({error})"
                self.unreadable(candidate.word.start, candidate.context, image, reason)
                continue
            first = next((p.start for p in candidate.value if p.start is not None), None)
            start = candidate.word.start if first is None else first
            location = self.lines.location(start)
            rewrite = _rewrite(candidate.value, shared)
            self.found.sites.append(Site(location, image, reference, rewrite, candidate.context))
        return self.found


def _pieces(word: Word) -> Value:
    """A word taken as written: one piece per run of characters written one after another."""
    pieces: list[Piece] = []
    begin = 0
    for index in range(1, len(word.text) + 1):
        if index == len(word.text) or word.offsets[index] != word.offsets[index - 1] + 1:
            pieces.append(Piece(word.text[begin:index], word.offsets[begin]))
            begin = index
    return tuple(pieces)


def _shared_args(text: str, candidates: list[_Candidate]) -> set[str]:
    """ARGs whose default must not be edited for one reference: used anywhere but in FROM
    images that all read the same reference."""
    uses = Counter(_USE.findall(text))
    in_images: Counter[str] = Counter()
    images: dict[str, set[str]] = {}
    for candidate in candidates:
        for name in _USE.findall(candidate.word.text):
            in_images[name] += 1
            images.setdefault(name, set()).add(text_of(candidate.value))
    return {name for name in uses if uses[name] != in_images[name] or len(images.get(name, ())) > 1}


def _rewrite(value: Value, shared: set[str]) -> Rewrite:
    """Where the tag and digest are written, and how to write new ones there."""
    image = text_of(value)
    name_end = len(name_part(image))
    if image[name_end : name_end + 1] == ":":
        start, prefix = name_end + 1, ""
    else:
        start, prefix = name_end, ":"
    target = _written_at(value, start, len(image))
    if isinstance(target, str):
        return unchangeable(target)
    piece, begin, end = target
    if piece.arg in shared:
        return unchangeable(
            f"its tag is in the default of ARG {piece.arg}, which more than this image uses;"
            " edit it by hand"
        )

    def rewrite(tag: str, digest: str | None) -> tuple[Edit, ...]:
        return (Edit(begin, end, prefix + tag + (f"@{digest}" if digest else "")),)

    return rewrite


def _written_at(value: Value, start: int, end: int) -> tuple[Piece, int, int] | str:
    """The one piece holding ``value``'s characters from ``start`` to its end (or, when
    ``start`` is the end, the piece it ends with), and where in the file they are; or why they
    are not written in one place."""
    position, touching, last = 0, [], None
    for piece in value:
        after = position + len(piece.text)
        if (after > start) if piece.text else (position >= start):
            touching.append((piece, position))
        if piece.text:
            last = (piece, position)
        position = after
    if start == end and not touching and last is not None:
        touching = [last]
    piece, position = touching[0] if len(touching) == 1 else (Piece("", None), 0)
    if piece.start is None:
        return _why_not([p for p, _ in touching])
    return piece, piece.start + max(start - position, 0), piece.start + len(piece.text)


def _why_not(pieces: list[Piece]) -> str:
    names = [p.arg for p in pieces if p.arg]
    if names:
        return f"its tag is joined to ${{{names[-1]}}}; edit it by hand"
    return "its tag is split across lines; edit it by hand"
