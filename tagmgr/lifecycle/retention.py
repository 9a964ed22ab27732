"""Which history tags still keep their digest, pure: a repository's tags in, the kept ones out.

Without a limit every history tag keeps its digest. With ``expire --keep-history N`` only the
newest N history entries of each environment do, and, even beyond those N, the entry a plain
``rollback`` returns to (the newest one for another digest than the environment points at now),
so that a rollback still has somewhere to go. The environment's own tag keeps its current digest
whatever the window. The planner asks this before deciding, and the executor asks it again on
the tags it reads just before each DELETE.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from tagmgr.manifest.environments import Chain, history_of, parse_history_tag


@dataclass(frozen=True)
class HistoryWindow:
    chain: Chain
    keep: int | None = None  # history entries kept per environment; None: all of them

    def __post_init__(self) -> None:
        if self.keep is not None and self.keep < 1:
            raise ValueError(f"keep {self.keep}: at least 1 history entry is kept")

    def kept(self, tags: Mapping[str, str]) -> dict[str, str]:
        """Of ``tags`` (tag -> digest), the history tags that keep their digest, each with why."""
        if self.keep is None:
            return {tag: "a history tag" for tag in tags if parse_history_tag(tag, self.chain)}
        kept: dict[str, str] = {}
        for environment in self.chain.names:
            entries = [tag for _, tag in history_of(tags, self.chain, environment)]
            newest = entries[-self.keep :]
            kept.update(
                (tag, f"one of the newest {self.keep} history tags of {environment}")
                for tag in newest
            )
            current = tags.get(environment)
            if all(tags[tag] == current for tag in newest):
                older = [tag for tag in entries[: -self.keep] if tags[tag] != current]
                if older:
                    kept[older[-1]] = f"the history entry a rollback of {environment} returns to"
        return kept
