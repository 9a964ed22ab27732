"""Histories shaped like real upstreams', for describe's conformance tests and the bench.

``grow_history`` adds, in one ``git fast-import``, commits on ``main`` and on short-lived feature
branches merged back (or left open), with tags on about a fifth of them: lightweight and
annotated, now and then two on one commit, named ``v1.N.M``, ``mod/v0.N.0`` (a '/' as in Go
monorepos) or ``build-N`` (which ``v*`` does not match). Commit dates mostly rise a minute at a
time, but one commit in ten is dated up to four hours back, as rebases and clock skew leave real
histories, so git's date-ordered walk does not simply follow the graph. A seed makes it the same
history every time.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from tests.support.gitrepos import ISOLATED_ENV, UpstreamRepo

_IDENTITY = f"{ISOLATED_ENV['GIT_COMMITTER_NAME']} <{ISOLATED_ENV['GIT_COMMITTER_EMAIL']}>"


def grow_history(repo: UpstreamRepo, *, commits: int, seed: int) -> None:
    """Add ``commits`` commits (merges included) on top of ``repo``'s HEAD, which must exist."""
    rng = random.Random(seed)  # noqa: S311 - the same history every time, nothing secret
    stream = _Import(clock=repo.clock)
    main = repo.head()
    feature: str | None = None
    feature_ref = ""
    on_feature = 0
    for number in range(commits):
        if feature is None and rng.random() < 0.2:
            feature, feature_ref, on_feature = main, f"refs/heads/feature-{number}", 0
        if feature is not None and on_feature >= 2 and rng.random() < 0.3:
            main = stream.commit("refs/heads/main", [main, feature], rng)
            feature = None
            made = main
        elif feature is not None and rng.random() < 0.5:
            feature = stream.commit(feature_ref, [feature], rng)
            on_feature += 1
            made = feature
        else:
            main = stream.commit("refs/heads/main", [main], rng)
            made = main
        if rng.random() < 0.2:
            stream.tag(made, rng)
            if rng.random() < 0.15:
                stream.tag(made, rng)
    repo.git("fast-import", "--quiet", stdin=stream.text())
    repo.git("reset", "--quiet", "--hard")  # the working tree follows the imported main
    repo.clock = stream.clock


@dataclass
class _Import:
    """A ``git fast-import`` stream of empty commits and of tags, written as it grows."""

    clock: int
    parts: list[str] = field(default_factory=list)
    marks: int = 0
    names: dict[str, int] = field(default_factory=dict)

    def commit(self, ref: str, parents: list[str], rng: random.Random) -> str:
        """A commit on ``ref``; returns its mark. A parent is a mark or a full hash."""
        self.clock += 60
        date = self.clock - (rng.randint(1, 240) * 60 if rng.random() < 0.1 else 0)
        self.marks += 1
        mark = f":{self.marks}"
        lines = [f"commit {ref}", f"mark {mark}", f"committer {_IDENTITY} {date} +0000"]
        lines += [_data(f"commit {self.marks}"), f"from {parents[0]}"]
        lines += [f"merge {parent}" for parent in parents[1:]]
        self.parts.append("\n".join(lines) + "\n")
        return mark

    def tag(self, target: str, rng: random.Random) -> None:
        kind = rng.choice(["v1.{}.0", "v1.{}.0", "mod/v0.{}.0", "build-{}"])
        self.names[kind] = self.names.get(kind, 0) + 1
        name = kind.format(self.names[kind])
        if rng.random() < 0.5:
            self.clock += 1
            tagger = f"tagger {_IDENTITY} {self.clock} +0000"
            self.parts.append(f"tag {name}\nfrom {target}\n{tagger}\n{_data(name)}\n")
        else:
            self.parts.append(f"reset refs/tags/{name}\nfrom {target}\n\n")

    def text(self) -> bytes:
        return "".join(self.parts).encode()


def _data(message: str) -> str:
    return f"data {len(message.encode())}\n{message}"
