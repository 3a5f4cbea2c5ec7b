"""A sliding-window rate limit per client, in process memory.

The web front runs as one gunicorn process (threads), so the count is exact. The client is
`request.remote_addr`; behind proxies, BORGERBOT_TRUSTED_PROXIES makes ProxyFix set it from the
proxies' own X-Forwarded-For entries (bot.web.create_app).
"""

from __future__ import annotations

import threading
import time
from collections import deque


class RateLimiter:
    def __init__(self, limit: int, window_s: float, max_clients: int = 100_000) -> None:
        self.limit, self.window_s, self.max_clients = limit, window_s, max_clients
        self._lock = threading.Lock()
        self._hits: dict[str, deque[float]] = {}

    def allow(self, client: str, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        with self._lock:
            hits = self._hits.get(client)
            if hits is None:
                if len(self._hits) >= self.max_clients:
                    self._forget_idle(now)
                hits = self._hits[client] = deque()
            while hits and hits[0] <= now - self.window_s:
                hits.popleft()
            if len(hits) >= self.limit:
                return False
            hits.append(now)
            return True

    def _forget_idle(self, now: float) -> None:
        idle = [k for k, v in self._hits.items() if not v or v[-1] <= now - self.window_s]
        for key in idle:
            del self._hits[key]
