"""Two final filesystems compared path by path, and two layer stacks turned into them.

Layers at the bottom of both stacks with equal diff_ids (a shared base) are read only when the
layers above them do not settle the answer alone: when both sides' upper layers wrote, whited
out and hid the same paths, everything else comes from the base on both sides and is equal.
Each blob is read at most once per comparison, whichever side names it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

from tagmgr.changes.filesystem import LayerChanges, Tree
from tagmgr.changes.ignore import IgnoreRules
from tagmgr.changes.records import Record, differences
from tagmgr.changes.verdict import Reason
from tagmgr.changes.walk import Layer

LayerReader = Callable[[Layer], LayerChanges]


def compare_stacks(
    a: Sequence[Layer], b: Sequence[Layer], read: LayerReader, ignore: IgnoreRules
) -> list[Reason]:
    shared = 0
    while shared < min(len(a), len(b)) and a[shared].diff_id == b[shared].diff_id:
        shared += 1
    cache: dict[str, LayerChanges] = {}

    def read_once(layer: Layer) -> LayerChanges:
        if layer.diff_id not in cache:
            cache[layer.diff_id] = read(layer)
        return cache[layer.diff_id]

    upper_a, upper_b = _stack(a[shared:], read_once), _stack(b[shared:], read_once)
    if upper_a.same_reach(upper_b):
        return compare_files(upper_a.records, upper_b.records, ignore)
    base = _stack(a[:shared], read_once)
    return compare_files(upper_a.over(base), upper_b.over(base), ignore)


def compare_files(
    a: Mapping[str, Record], b: Mapping[str, Record], ignore: IgnoreRules
) -> list[Reason]:
    """A reason per path that differs; one an ignore rule names is marked ``ignored_by`` it."""
    reasons = []
    for path in sorted(a.keys() | b.keys()):
        before, after = a.get(path), b.get(path)
        if before is None and after is not None:
            reason = Reason("file-added", path, after.kind.value)
        elif after is None and before is not None:
            reason = Reason("file-removed", path, before.kind.value)
        elif before is not None and after is not None and before != after:
            reason = Reason("file-modified", path, ", ".join(differences(before, after)))
        else:
            continue
        rule = ignore.path_rule(path)
        reasons.append(replace(reason, ignored_by=rule.text) if rule else reason)
    return reasons


def _stack(layers: Sequence[Layer], read: LayerReader) -> Tree:
    tree = Tree()
    for layer in layers:
        tree.apply(read(layer))
    return tree
