"""A model-call cache for eval runs: the same model, messages and tools are answered once.

A LangChain cache (`model.cache = ModelCallCache(path)`): LangChain hands it the serialized
messages and a string of the model's parameters, bound tools included, and it keys the
answer on a hash of both. Answers live in a SQLite file under var/, so a re-run after a
prompt change only pays for the prompts that changed. Hits are counted per case through a
context variable, since cases run side by side in threads.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from collections.abc import Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langchain_core.caches import RETURN_VAL_TYPE, BaseCache
from langchain_core.messages import message_to_dict, messages_from_dict
from langchain_core.outputs import ChatGeneration, Generation


@dataclass
class CacheStats:
    hits: int = 0
    misses: int = 0


# The counters of the case running in this context (None outside a case).
current_stats: ContextVar[CacheStats | None] = ContextVar("eval_cache_stats", default=None)


def cache_key(prompt: str, llm_string: str) -> str:
    return hashlib.sha256(f"{llm_string}\x00{prompt}".encode()).hexdigest()


class ModelCallCache(BaseCache):
    """Answers keyed on sha256(model parameters and tools, messages), stored in SQLite."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, timeout=30)
        with self._lock, self._db:
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS answers (key TEXT PRIMARY KEY, generations TEXT)"
            )
        self.stats = CacheStats()

    def lookup(self, prompt: str, llm_string: str) -> RETURN_VAL_TYPE | None:
        key = cache_key(prompt, llm_string)
        with self._lock:
            row = self._db.execute(
                "SELECT generations FROM answers WHERE key = ?", (key,)
            ).fetchone()
        found = _decode(row[0]) if row else None
        self._count(hit=found is not None)
        return found

    def update(self, prompt: str, llm_string: str, return_val: RETURN_VAL_TYPE) -> None:
        key = cache_key(prompt, llm_string)
        with self._lock, self._db:
            self._db.execute(
                "INSERT OR REPLACE INTO answers (key, generations) VALUES (?, ?)",
                (key, _encode(return_val)),
            )

    def clear(self, **kwargs: Any) -> None:
        with self._lock, self._db:
            self._db.execute("DELETE FROM answers")

    def __len__(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM answers").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _count(self, *, hit: bool) -> None:
        with self._lock:
            for stats in (self.stats, current_stats.get()):
                if stats is None:
                    continue
                if hit:
                    stats.hits += 1
                else:
                    stats.misses += 1


def _encode(generations: Sequence[Generation]) -> str:
    items = []
    for generation in generations:
        item: dict[str, Any] = {"text": generation.text, "info": generation.generation_info}
        if isinstance(generation, ChatGeneration):
            item["message"] = message_to_dict(generation.message)
        items.append(item)
    return json.dumps(items)


def _decode(raw: str) -> list[Generation] | None:
    try:
        items = json.loads(raw)
        generations: list[Generation] = []
        for item in items:
            if "message" in item:
                [message] = messages_from_dict([item["message"]])
                generations.append(
                    ChatGeneration(message=message, generation_info=item.get("info"))
                )
            else:
                generations.append(Generation(text=item["text"], generation_info=item.get("info")))
        return generations
    except (ValueError, KeyError, TypeError):
        return None  # an unreadable entry is a miss; the fresh answer replaces it
