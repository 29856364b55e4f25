"""Divisor groups for the dynamic programme: split the items into two groups whose costs share
a divisor (``g1`` = the smallest cost, ``g2`` = the gcd of the rest), run the bitset DP of
each group in its own units (capacity ``budget // g``, so a group's table is ``g`` times
narrower), then combine the two reachable sets exactly: every subset is a subset of group 1
plus a subset of group 2, so the best total is

    max over s1 in S1 of  s1·g1 + g2 · max{ s2 in S2 : s2 ≤ (budget − s1·g1) / g2 }

(one vectorised search). The combination needs each group's *whole* reachable set: a set cut
short when the group's own capacity became reachable misses the smaller shares that later items
make, and the "best" total is then not the optimum (issue 15). ``dp.grouped_dp`` therefore runs
every item of each group, stopping early only when one group alone reaches the proven upper
bound. Frobenius-number instances (Pisinger's "somatoth": multiples of two
coprime weights) split this way, and their tables shrink from ~w1·w2 bits to ~n/2.

Complexity: O(Σ_j |G_j| · (B/g_j) / 64) word operations plus O(|S1| log |S2|).
Limits: applies only when both divisors are at least 2 and the split saves at least 4× of the
plain table; otherwise the plain DP runs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["Split", "combine", "reachable_values", "split"]


@dataclass(frozen=True)
class Split:
    divisors: tuple[int, int]
    members: tuple[list[int], list[int]]  # positions into the core's costs

    def caps(self, budget: int) -> tuple[int, int]:
        return budget // self.divisors[0], budget // self.divisors[1]

    def work(self, budget: int) -> int:
        """Bit operations of the two group tables (comparable to ``n · budget``)."""
        c1, c2 = self.caps(budget)
        return len(self.members[0]) * (c1 + 1) + len(self.members[1]) * (c2 + 1)


def split(costs: list[int] | None, budget: int, array: np.ndarray | None = None
          ) -> Split | None:
    """The two-divisor split of ``costs``, or None when it does not pay (``array``: the same
    costs as int64, for a vectorised test; ``costs`` may then be None)."""
    n = array.size if array is not None else len(costs)  # type: ignore[arg-type]
    if n < 4:
        return None
    if array is not None:
        g1 = int(array.min())
        if g1 < 2:
            return None
        divisible = array % g1 == 0
        if divisible.all():
            return None
        g2 = int(np.gcd.reduce(array[~divisible]))
        if g2 < 2:
            return None
        first, second = np.flatnonzero(divisible).tolist(), np.flatnonzero(~divisible).tolist()
    else:
        assert costs is not None
        g1 = min(costs)
        if g1 < 2:
            return None
        first = [i for i, c in enumerate(costs) if c % g1 == 0]
        second = [i for i, c in enumerate(costs) if c % g1]
        if not second:
            return None
        g2 = math.gcd(*(costs[i] for i in second))
        if g2 < 2:
            return None
    found = Split((g1, g2), (first, second))
    if found.work(budget) * 4 > n * (budget + 1):
        return None
    return found


def reachable_values(reach: int, cap: int) -> np.ndarray:
    """Positions of the set bits of ``reach`` (≤ cap), ascending, as int64."""
    nbytes = cap // 8 + 1
    raw = np.frombuffer(reach.to_bytes(nbytes, "little"), dtype=np.uint8)
    return np.flatnonzero(np.unpackbits(raw, bitorder="little")[: cap + 1]).astype(np.int64)


def combine(s1: np.ndarray, s2: np.ndarray, g1: int, g2: int, budget: int
            ) -> tuple[int, int, int]:
    """(best total, share of group 1, share of group 2), shares in their groups' units."""
    rem = (budget - s1 * g1) // g2
    pos = np.searchsorted(s2, rem, side="right") - 1
    ok = pos >= 0
    totals = np.where(ok, s1 * g1 + s2[np.maximum(pos, 0)] * g2, -1)
    k = int(np.argmax(totals))
    return int(totals[k]), int(s1[k]), int(s2[int(pos[k])])
