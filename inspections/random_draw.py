"""The random draw of 双随机、一公开 as a pure function: candidates in, targets and officers out.

Nothing here touches the database, so the rule can be tested on its own and recomputed later
from stored inputs: the same inputs and seed always give the same draw (``draw_run``), and
``inputs_hash`` fingerprints the inputs so that a changed register is noticed.

Only ``random.Random(seed).random()`` is used for chance: Python promises that this sequence
stays the same for a given seed across versions, which it does not promise for ``sample`` or
``shuffle``, and a draw must still verify years later.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

KEY = "key"
OTHER = "other"
# The order in which the classes are drawn; part of the rule, do not reorder.
CLASSES = (KEY, OTHER)
KEY_TIERS = frozenset({"national", "provincial"})
OFFICERS_PER_TARGET = 2


def source_class(*, control_tier: str, safety_key: bool) -> str:
    """National- or provincial-controlled and provincial safety-key sources are "key"
    (the Zhejiang notice's most-watched group); every other source is "other"."""
    return KEY if control_tier in KEY_TIERS or safety_key else OTHER


def quota_count(*, quota: float, population: int) -> int:
    """How many sources a quota draws: ``ceil(quota × population)``, computed in decimals so
    that 7 % of 100 is 7, not 8 (binary floats make that 7.000000000000001)."""
    if population <= 0 or quota <= 0:
        return 0
    return min(population, math.ceil(Decimal(str(quota)) * population))


@dataclass(frozen=True)
class DrawInputs:
    """Everything a draw depends on. ``sources`` is ``(source id, class)``; ``conflicts`` maps a
    source id to the officers who hold a role on its grid or a grid above it in the draw."""

    sources: Sequence[tuple[int, str]]
    officers: Sequence[int]
    quotas: Mapping[str, float]
    period_start: date
    period_end: date
    seed: str
    conflicts: Mapping[int, frozenset[int]] = field(default_factory=dict)

    def canonical(self) -> str:
        """The hashed form: sorted lists, fixed keys, no whitespace."""
        return json.dumps(
            {
                "sources": sorted([int(pk), cls] for pk, cls in self.sources),
                "officers": sorted(int(pk) for pk in self.officers),
                "quotas": {cls: float(self.quotas.get(cls, 0)) for cls in CLASSES},
                "period": [self.period_start.isoformat(), self.period_end.isoformat()],
                "seed": self.seed,
            },
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
        )


def inputs_hash(inputs: DrawInputs) -> str:
    return hashlib.sha256(inputs.canonical().encode()).hexdigest()


@dataclass(frozen=True)
class DrawnTarget:
    source_id: int
    source_class: str
    officer_ids: tuple[int, ...]
    # True when fewer than two officers without a role over the source's grid were available.
    fallback: bool


def _pick(rng: random.Random, items: Sequence[int], k: int) -> list[int]:
    """``k`` distinct items at random: a partial Fisher–Yates shuffle driven by ``random()``."""
    pool = list(items)
    k = min(k, len(pool))
    for i in range(k):
        j = i + int(rng.random() * (len(pool) - i))
        pool[i], pool[j] = pool[j], pool[i]
    return pool[:k]


def draw_run(inputs: DrawInputs) -> list[DrawnTarget]:
    """Draw ``quota_count`` sources per class from the id-sorted candidates, then two distinct
    officers for each drawn source (in id order), preferring officers without a role over the
    source's grid; where fewer than two such officers exist, the free ones are kept and the
    rest drawn from everyone, and the target is marked as a fallback."""
    rng = random.Random(inputs.seed)
    officers = sorted(set(inputs.officers))
    drawn: list[tuple[int, str]] = []
    for cls in CLASSES:
        candidates = sorted({pk for pk, c in inputs.sources if c == cls})
        k = quota_count(quota=float(inputs.quotas.get(cls, 0)), population=len(candidates))
        drawn.extend((pk, cls) for pk in _pick(rng, candidates, k))
    targets = []
    for source_id, cls in sorted(drawn):
        conflicted = inputs.conflicts.get(source_id, frozenset())
        free = [pk for pk in officers if pk not in conflicted]
        if len(free) >= OFFICERS_PER_TARGET:
            chosen, fallback = _pick(rng, free, OFFICERS_PER_TARGET), False
        else:
            rest = [pk for pk in officers if pk in conflicted]
            chosen = free + _pick(rng, rest, OFFICERS_PER_TARGET - len(free))
            fallback = True
        targets.append(DrawnTarget(source_id, cls, tuple(sorted(chosen)), fallback))
    return targets
