"""Lifecycle rules in ECR's lifecycle-policy format, as plain values, and what each rule selects.

ECR's semantics, kept here: rules are applied by ``rulePriority``, lowest first; an image is
expired by at most one rule; an image whose tags match a higher-priority rule's selection is never
expired by a lower-priority one, although that rule still counts it. ``tagPrefixList`` and
``tagPatternList`` select an image when every entry matches at least one of its tags (``*`` in a
pattern matches any run of characters). ``imageCountMoreThan`` keeps the newest ``countNumber``
images it selects; ``sinceImagePushed`` expires those older than ``countNumber`` days.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property

from tagmgr.errors import Location


class TagStatus(StrEnum):
    TAGGED = "tagged"
    UNTAGGED = "untagged"
    ANY = "any"


class CountType(StrEnum):
    IMAGE_COUNT_MORE_THAN = "imageCountMoreThan"
    SINCE_IMAGE_PUSHED = "sinceImagePushed"


@dataclass(frozen=True)
class Rule:
    priority: int
    description: str
    tag_status: TagStatus
    count_type: CountType
    count_number: int
    location: Location
    tag_prefixes: tuple[str, ...] = ()
    tag_patterns: tuple[str, ...] = ()

    @cached_property
    def _patterns(self) -> tuple[re.Pattern[str], ...]:
        return tuple(
            re.compile(".*".join(re.escape(part) for part in pattern.split("*")))
            for pattern in self.tag_patterns
        )

    def selects(self, tags: Sequence[str]) -> bool:
        """Whether an image with ``tags`` meets this rule's tagging requirements."""
        if self.tag_status is TagStatus.UNTAGGED:
            return not tags
        if self.tag_status is TagStatus.ANY:
            return True
        return bool(tags) and (
            all(any(tag.startswith(prefix) for tag in tags) for prefix in self.tag_prefixes)
            and all(any(p.fullmatch(tag) for tag in tags) for p in self._patterns)
        )

    @property
    def label(self) -> str:
        """``rule 1 (Expire images older than 14 days)`` for messages."""
        return f"rule {self.priority}" + (f" ({self.description})" if self.description else "")


@dataclass(frozen=True)
class Policy:
    """The rules, by priority, and the repositories (``registry/repository``) they apply to."""

    path: str
    rules: tuple[Rule, ...]
    repositories: tuple[str, ...] = ()
