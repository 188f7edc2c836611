"""A client-side budget of API calls per minute, for vendors that publish one (Coinalyze: 40
per key; CoinGecko: by plan) and answer 429 when it is passed."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable


class CallBudget:
    """A sliding one-minute window of API calls: :meth:`spend` blocks until ``n`` more calls
    fit under ``per_minute``. ``clock``/``sleep`` are injectable so the window is testable."""

    def __init__(
        self,
        per_minute: int,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if per_minute < 1:
            raise ValueError("per_minute must be at least 1")
        self.per_minute = per_minute
        self.clock = clock
        self.sleep = sleep
        self._spent: deque[float] = deque()

    def spend(self, n: int) -> float:
        """Record ``n`` calls, first waiting as long as needed; returns seconds waited."""
        if not 1 <= n <= self.per_minute:
            raise ValueError(f"cannot spend {n} calls with a budget of {self.per_minute}")
        waited = 0.0
        while True:
            now = self.clock()
            while self._spent and self._spent[0] <= now - 60.0:
                self._spent.popleft()
            if len(self._spent) + n <= self.per_minute:
                self._spent.extend([now] * n)
                return waited
            wait = self._spent[len(self._spent) + n - self.per_minute - 1] + 60.0 - now
            wait = max(wait, 0.01)
            self.sleep(wait)
            waited += wait
