"""The bot process of the soak: `testkit.bot_process` plus things injected from outside the
bot, so the product code stays as it ships.

- A SQLite write outage: while the file named by `SOAK_STORE_OUTAGE_FLAG` exists, the
  store's writes (`insert`, `save` and the health probe's `check_writable`) fail with
  `sqlite3.OperationalError("database is locked")`, as SQLite does when another process
  holds the write lock past the busy timeout.
- Its own vital signs, in the file named by `SOAK_STATS_FILE` (one JSON object, replaced
  atomically): every half second the event loop's task count and the interpreter's
  allocated blocks; and, when the benchmark asks for a probe (it writes a token to the
  same name + `.probe`), after a full garbage collection: Python's live objects and
  allocated blocks, the C heap in use and SQLite's share of it, tracemalloc's traced
  bytes when tracing (and a snapshot beside the stats file, named after the probe), and
  the length of every container the bot's own parts hold (`structures`), so growth can
  be pinned on a dict. RSS is read from /proc by the benchmark; temporary files by
  listing the bot's `TMPDIR`.
- `SOAK_TRACEMALLOC=<frames>` traces allocations from the start (slow; for finding a leak).
"""

from __future__ import annotations

import asyncio
import collections
import ctypes
import gc
import json
import os
import sqlite3
import sys
import time
import tracemalloc
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

from bot.app import VideoBot
from bot.jobs.model import Job
from bot.store.sqlite_jobs import JobStore
from testkit import bot_process

OUTAGE_FLAG = "SOAK_STORE_OUTAGE_FLAG"
STATS_FILE = "SOAK_STATS_FILE"
TRACEMALLOC = "SOAK_TRACEMALLOC"
STATS_EVERY_SECONDS = 0.5
PROBE_SUFFIX = ".probe"
SNAPSHOT_SUFFIX = ".snapshot"
OWN_PARTS = (
    "board",
    "outbox",
    "video_cache",
    "downloads",
    "fetcher",
    "fitter",
    "delivery",
    "notifier",
    "desk",
    "audit",
    "server_settings",
    "metrics",
    "tracker",
)
"""The bot's own parts whose containers are measured (walked into the `bot` package, but
not from one part into another, so each container is named after the part that owns it)."""
SIZED = (dict, set, frozenset, list, tuple, collections.deque, collections.OrderedDict)


def install_store_outage(flag: Path) -> None:
    """Make every job write fail while `flag` exists (checked per write). The refusal is
    raised on the database thread, inside `Database.run`, where SQLite's own would be."""
    insert, save, check_writable = JobStore.insert, JobStore.save, JobStore.check_writable

    def locked(conn: sqlite3.Connection) -> None:
        raise sqlite3.OperationalError("database is locked")

    def flagged() -> bool:
        return flag.exists()

    async def failing_insert(self: JobStore, job: Job) -> Job:
        if flagged():
            await self.db.run(locked)
        return await insert(self, job)

    async def failing_save(self: JobStore, job: Job) -> Job:
        if flagged():
            await self.db.run(locked)
        return await save(self, job)

    async def failing_check(self: JobStore) -> None:
        if flagged():
            await self.db.run(locked)
        await check_writable(self)

    JobStore.insert = failing_insert  # type: ignore[method-assign]
    JobStore.save = failing_save  # type: ignore[method-assign]
    JobStore.check_writable = failing_check  # type: ignore[method-assign, assignment]


def install_stats(path: Path) -> None:
    """Start the stats writer with the bot (its own task is one of those it counts)."""
    setup_hook: Callable[[VideoBot], Awaitable[None]] = VideoBot.setup_hook
    running: list[asyncio.Task[None]] = []

    async def with_stats(self: VideoBot) -> None:
        await setup_hook(self)
        running.append(asyncio.create_task(_write_stats(self, path), name="soak-stats"))

    VideoBot.setup_hook = with_stats  # type: ignore[method-assign]


async def _write_stats(bot: VideoBot, path: Path) -> None:
    partial = path.with_name(path.name + ".part")
    probe_path = path.with_name(path.name + PROBE_SUFFIX)
    probed: dict[str, Any] = {}
    while True:
        token = _read_token(probe_path)
        if token is not None and token != probed.get("probe"):
            snapshot = path.with_name(f"{path.name}.{token}{SNAPSHOT_SUFFIX}")
            probed = {"probe": token, **probe(bot, snapshot)}
        facts: dict[str, Any] = {
            "wall": time.time(),
            "tasks": len(asyncio.all_tasks()),
            "blocks": sys.getallocatedblocks(),
            "last_probe": probed,
        }
        partial.write_text(json.dumps(facts))
        os.replace(partial, path)
        await asyncio.sleep(STATS_EVERY_SECONDS)


def _read_token(path: Path) -> str | None:
    try:
        return path.read_text().strip() or None
    except OSError:
        return None


def probe(bot: VideoBot, snapshot: Path) -> dict[str, Any]:
    """Python-level memory after a full collection, and the bot's own containers."""
    gc.collect()
    facts: dict[str, Any] = {
        "tasks": len(asyncio.all_tasks()),
        "objects": len(gc.get_objects()),
        "blocks": sys.getallocatedblocks(),
        "heap_bytes": heap_in_use(),
        "sqlite_bytes": sqlite_in_use(),
        "traced_bytes": None,
        "structures": dict(structures(bot)),
    }
    if tracemalloc.is_tracing():
        facts["traced_bytes"] = tracemalloc.get_traced_memory()[0]
        tracemalloc.take_snapshot().dump(str(snapshot))
    return facts


class _Mallinfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena",
            "ordblks",
            "smblks",
            "hblks",
            "hblkhd",
            "usmblks",
            "fsmblks",
            "uordblks",
            "fordblks",
            "keepcost",
        )
    ]


def heap_in_use() -> int | None:
    """Bytes the C allocator has handed out and not had back (glibc's mallinfo2: in-use
    chunks plus mmapped ones): what Python allocates beyond its small-object pools (large
    dicts' tables, lists, strings and bytes over 512 bytes, SQLite, OpenSSL). None without
    glibc ≥ 2.33."""
    mallinfo2 = getattr(ctypes.CDLL(None), "mallinfo2", None)
    if mallinfo2 is None:
        return None
    mallinfo2.restype = _Mallinfo2
    info = mallinfo2()
    return int(info.uordblks + info.hblkhd)


def sqlite_in_use() -> int | None:
    """Bytes SQLite has allocated (its page cache, statements), part of the C heap; None
    where Python's SQLite is not the system's shared library."""
    try:
        library = ctypes.CDLL("libsqlite3.so.0")
    except OSError:
        return None
    library.sqlite3_memory_used.restype = ctypes.c_int64
    return int(library.sqlite3_memory_used())


def structures(bot: VideoBot) -> Iterator[tuple[str, int]]:
    """`part.attribute.attribute` → length, for every container reachable from the bot's
    own parts through objects of the `bot` package (not into the containers' items),
    discord.py's view store, which keeps what messages' buttons need, and its rate-limit
    buckets (one per route and channel or webhook, pruned once there are 256)."""
    parts = {name: part for name in OWN_PARTS if (part := getattr(bot, name, None)) is not None}
    seen = {id(bot), *(id(part) for part in parts.values())}
    for name, part in parts.items():
        for attribute, value in _attributes(part):
            yield from _walk(value, f"{name}.{attribute}", seen, depth=3)
    views = bot._connection._view_store
    for name in ("_views", "_synced_message_views", "_modals", "_dynamic_items"):
        yield f"discord.view_store.{name}", len(getattr(views, name))
    yield "discord.http._buckets", len(bot.http._buckets)


def _walk(value: object, path: str, seen: set[int], depth: int) -> Iterator[tuple[str, int]]:
    """A container's length, or the containers inside an object of the `bot` package
    (not into another of the bot's parts, nor twice into one object)."""
    if isinstance(value, SIZED):
        yield path, len(value)
        return
    if id(value) in seen or depth == 0 or isinstance(value, type):
        return
    if not type(value).__module__.startswith("bot."):
        return
    seen.add(id(value))
    for attribute, inner in _attributes(value):
        yield from _walk(inner, f"{path}.{attribute}", seen, depth - 1)


def _attributes(obj: object) -> Iterator[tuple[str, object]]:
    names = list(getattr(obj, "__dict__", {}))
    for cls in type(obj).__mro__:
        slots = cls.__dict__.get("__slots__", ())
        names += [slots] if isinstance(slots, str) else list(slots)
    for attribute in dict.fromkeys(names):
        try:
            yield attribute, getattr(obj, attribute)
        except AttributeError:
            continue


def main() -> int:
    if frames := os.environ.get(TRACEMALLOC):
        tracemalloc.start(int(frames))
    if flag := os.environ.get(OUTAGE_FLAG):
        install_store_outage(Path(flag))
    if stats := os.environ.get(STATS_FILE):
        install_stats(Path(stats))
    return bot_process.main()


if __name__ == "__main__":
    sys.exit(main())
