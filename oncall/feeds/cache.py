"""A small thread-safe LRU for per-process memos (rendered feeds by ETag, feed lookups by secret hash)."""
from collections import OrderedDict
from threading import Lock
from typing import Generic, Hashable, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class LruCache(Generic[K, V]):
    """Keeps at most `max_items` entries whose sizes add up to at most `max_size` (0 items: off)."""

    def __init__(self, max_items: int, max_size: int | None = None) -> None:
        self.max_items, self.max_size = max_items, max_size
        self._items: OrderedDict[K, tuple[V, int]] = OrderedDict()
        self._size = 0
        self._lock = Lock()

    def get(self, key: K) -> V | None:
        with self._lock:
            entry = self._items.get(key)
            if entry is None:
                return None
            self._items.move_to_end(key)
            return entry[0]

    def put(self, key: K, value: V, size: int = 0) -> None:
        if self.max_items <= 0 or (self.max_size is not None and size > self.max_size):
            return
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._size -= old[1]
            self._items[key] = (value, size)
            self._size += size
            while len(self._items) > self.max_items or (self.max_size is not None and self._size > self.max_size):
                _key, (_value, dropped) = self._items.popitem(last=False)
                self._size -= dropped

    def discard(self, key: K) -> None:
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._size -= old[1]

    def __len__(self) -> int:
        return len(self._items)
