"""The models the API serves follow the registry: a promoted (or demoted) champion is picked
up without a restart.

At start-up the API notes which version the registry's `champion` alias names for the
selector and for the runtime model, then loads them (`ml.serving`). Afterwards, at most once
every `CHECK_SECONDS` (per process), the request that comes first (a solve, or /health) asks
the registry again: one small SELECT (`db.api_queries.alias_versions`) on the ops threads. When
an alias moved, that request loads the new model in a worker thread (never on the event loop)
and every later request uses it; requests that arrive meanwhile keep the models already loaded
and never wait. A registry that cannot be read keeps what is loaded. A demote (no alias) puts
`auto` back on the rules and forecasts off, with the same notes as at start-up.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from dataclasses import dataclass, field
from typing import Any

import anyio

from api.service import ApiState
from db import api_queries as q
from db.engine import mask_url, session_scope, sqlite_file_missing

log = logging.getLogger("api")

CHECK_SECONDS = 2.0
"""Longest time a promotion goes unnoticed (one small SELECT at most this often)."""
SELECTOR_MODEL = "selector"  # ml.DEFAULT_MODEL_NAME (the API need not import ml to watch it)
RUNTIME_MODEL = "runtime"  # ml.RUNTIME_MODEL_NAME
Seen = dict[str, tuple[int, int]]


@dataclass
class ChampionWatch:
    """What to follow, how often, and what the registry said when the models were loaded."""

    selector: bool
    runtime: bool
    every: float = CHECK_SECONDS
    seen: Seen = field(default_factory=dict)
    checked_at: float = -math.inf
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    @property
    def names(self) -> list[str]:
        return [n for n, on in ((SELECTOR_MODEL, self.selector), (RUNTIME_MODEL, self.runtime))
                if on]


def alias_state(url: str, names: list[str]) -> Seen | None:
    """`{model name: (version id, version)}` of the champions now, or None when the registry
    cannot be read (logged). A SQLite file that does not exist is not created: no champions."""
    if not names or sqlite_file_missing(url):
        return {}
    try:
        with session_scope(url) as session:
            return q.alias_versions(session=session, names=names)
    except Exception as exc:  # unreachable or unmigrated: keep the loaded models
        log.info("champion check on %s failed (%s); models kept", mask_url(url),
                 type(exc).__name__)
        return None


def apply_selector(st: ApiState, chosen: Any, note: str | None) -> None:
    """Serve `chosen` (None: the rules, `note` saying why when a champion is unusable)."""
    st.selector = chosen
    st.selector_note = note
    st.selector_name = str(getattr(chosen, "name", "custom")) if chosen else "rules"
    st.selector_version = getattr(chosen, "version", None) if chosen else None
    st.metrics.set_model(st.selector_name, st.selector_version)


async def refresh(st: ApiState, watch: ChampionWatch | None) -> None:
    """Reload a model whose champion alias moved since it was loaded (see the module doc)."""
    if watch is None or not watch.names:
        return
    if time.monotonic() - watch.checked_at < watch.every or watch.lock.locked():
        return
    from api.app import load_champion_with_note, load_runtime_with_note

    async with watch.lock:
        watch.checked_at = time.monotonic()
        found = await anyio.to_thread.run_sync(alias_state, st.database_url, watch.names,
                                               limiter=st.ops_limiter)
        if found is None:
            return
        if watch.selector and found.get(SELECTOR_MODEL) != watch.seen.get(SELECTOR_MODEL):
            chosen, note = await anyio.to_thread.run_sync(load_champion_with_note,
                                                          st.database_url)
            apply_selector(st, chosen, note)
            log.info("champion selector changed: %s", st.selector_name)
        if watch.runtime and found.get(RUNTIME_MODEL) != watch.seen.get(RUNTIME_MODEL):
            model, note = await anyio.to_thread.run_sync(load_runtime_with_note,
                                                         st.database_url)
            st.runtime_model, st.runtime_note = model, note
            log.info("runtime model changed: %s",
                     getattr(model, "name", None) or f"off ({note})")
        watch.seen = found
        watch.checked_at = time.monotonic()
