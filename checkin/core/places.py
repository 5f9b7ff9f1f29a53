"""One rule for how full a place is (a room, the venue, an excursion), for every screen."""

from __future__ import annotations

import math
from typing import Any

# A place is "nearly full" when at most this share of its places is left (and at least one
# place counts as "nearly": 9 of 10 and 7 of 8 are both nearly full, 10 of 100 left is not).
NEAR_FREE_SHARE = 0.1


def place_state(inside: int, capacity: int | None) -> str:
    """Return how full a place is: none (no capacity), ok, near, full or over."""
    if capacity is None:
        return "none"
    if inside > capacity:
        return "over"
    if inside == capacity:
        return "full" if capacity > 0 else "ok"
    free = capacity - inside
    return "near" if free <= max(1, math.ceil(capacity * NEAR_FREE_SHARE)) else "ok"


def with_states(counts: dict[str, Any]) -> dict[str, Any]:
    """Return a headcounts payload with each checkpoint's fullness added as `state`."""
    checkpoints = [{**cp, "state": place_state(cp["inside"], cp.get("capacity"))}
                   for cp in counts.get("checkpoints", [])]
    return {**counts, "checkpoints": checkpoints}
