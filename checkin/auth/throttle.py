"""Sign-in throttling: too many wrong passwords from one address make it wait a while."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

# Ten wrong passwords in ten minutes is more than a person mistyping ever makes, and at
# this pace guessing a ten-character password takes longer than any event lasts.
MAX_FAILURES = 10
WINDOW_SECONDS = 600.0
# Addresses remembered at most: a flood of made-up addresses cannot grow memory without end.
MAX_ADDRESSES = 10_000


class LoginThrottle:
    """Counts failed sign-ins per client address over a sliding window.

    Per address, not per username: locking an account would let anyone on the venue's
    Wi-Fi lock the organisers out on the day, by typing their names with wrong passwords.
    Kept in the server's memory (one process); a restart forgets it.
    """

    def __init__(self, max_failures: int = MAX_FAILURES, window: float = WINDOW_SECONDS,
                 clock: Callable[[], float] = time.monotonic):
        self.max_failures, self.window, self.clock = max_failures, window, clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, address: str, now: float) -> deque[float]:
        times = self._failures.get(address, deque())
        while times and times[0] <= now - self.window:
            times.popleft()
        return times

    def wait_seconds(self, address: str) -> int:
        """Return how many seconds this address must wait before it may try again (0: none)."""
        now = self.clock()
        with self._lock:
            times = self._recent(address, now)
            if len(times) < self.max_failures:
                return 0
            return max(1, int(times[-self.max_failures] + self.window - now + 0.999))

    def failed(self, address: str) -> None:
        """Note a wrong username or password from this address."""
        now = self.clock()
        with self._lock:
            times = self._recent(address, now)
            times.append(now)
            self._failures[address] = times
            if len(self._failures) > MAX_ADDRESSES:
                # Forget the address whose last failure is oldest.
                oldest = min(self._failures, key=lambda a: self._failures[a][-1]
                             if self._failures[a] else 0.0)
                del self._failures[oldest]

    def succeeded(self, address: str) -> None:
        """Forget the failures of an address that has just signed in."""
        with self._lock:
            self._failures.pop(address, None)
