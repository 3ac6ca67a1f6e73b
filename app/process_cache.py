"""A process-wide cache that a forked child starts without.

Provider clients, circuit breakers and the moderation client are built once per process and kept in
module-level dicts. An RQ work horse is a fork of its worker, and the worker itself runs some jobs
(jobs.worker.INLINE_JOBS): the parent's entries hold pool threads that do not survive a fork and
sockets the parent still uses, and another thread may hold the lock at the moment of the fork.
"""

from __future__ import annotations

import os
import threading
from typing import Any


class ForkSafeCache(dict[str, Any]):
    """A dict with its `lock`; after a fork the child's copy is empty with a fresh lock. Entries are
    not closed there: they belong to the parent. Meant for module-level caches (it lives for good)."""

    def __init__(self) -> None:
        super().__init__()
        self.lock = threading.Lock()
        os.register_at_fork(after_in_child=self._after_fork)

    def _after_fork(self) -> None:
        self.clear()
        self.lock = threading.Lock()
