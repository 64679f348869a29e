"""A bounded folder of delivered videos, so a video can be posted again without fetching
and re-encoding it.

Files are named `<job id>.mp4`; a file's modification time records its last put or use,
so the least recently used order survives a restart (the folder is scanned on open).
Files being read (`reading`) are never evicted; the cache may stay over its cap until
they are released. All disk work runs in threads, off the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import shutil
import time
from collections import OrderedDict
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

_NAME = re.compile(r"^(\d+)\.mp4$")
_TEMPORARY_SUFFIX = ".incoming"


@dataclass(slots=True)
class _Entry:
    path: Path
    size: int
    used_ns: int
    readers: int = 0


class VideoCache:
    """Videos keyed by job id, evicted least recently put or used first past `max_bytes`.

    Make one with `await VideoCache.open(folder, max_bytes)`. Meant for one event loop.
    """

    def __init__(self, folder: Path, max_bytes: int, entries: OrderedDict[int, _Entry]) -> None:
        self.folder = folder
        self.max_bytes = max_bytes
        self._entries = entries
        self._bytes = sum(entry.size for entry in entries.values())
        """What the entries hold together, kept as they change: summing them per put made
        every delivery cost as much as the cache has videos."""
        self._lock = asyncio.Lock()
        self._last_stamp_ns = max((entry.used_ns for entry in entries.values()), default=0)

    @classmethod
    async def open(cls, folder: Path, max_bytes: int) -> VideoCache:
        """Open (creating if needed) `folder`, taking in the videos already there."""
        if max_bytes <= 0:
            raise ValueError("max_bytes must be positive")
        entries = await asyncio.to_thread(_scan, folder)
        cache = cls(folder, max_bytes, entries)
        await cache._evict()
        return cache

    @property
    def total_bytes(self) -> int:
        return self._bytes

    def job_ids(self) -> list[int]:
        """Cached job ids, the next to be evicted first."""
        return list(self._entries)

    async def put(self, job_id: int, source: Path, *, move: bool = True) -> Path:
        """Store `source` as `job_id`'s video (moved in, or copied if `move` is False)."""
        final = self.folder / f"{job_id}.mp4"
        async with self._lock:
            stamp = self._stamp()
            size = await asyncio.to_thread(_store, source, final, move, stamp)
            entry = self._pop(job_id) or _Entry(final, size, stamp)
            entry.size, entry.used_ns = size, stamp  # in place: readers hold this entry
            self._entries[job_id] = entry
            self._bytes += size
            await self._evict(keep=job_id)
        return final

    async def get(self, job_id: int) -> Path | None:
        """`job_id`'s video, marked as just used; it may be evicted later unless read
        through `reading`."""
        entry = self._entries.get(job_id)
        if entry is None:
            return None
        self._entries.move_to_end(job_id)
        entry.used_ns = self._stamp()
        try:
            await asyncio.to_thread(os.utime, entry.path, ns=(entry.used_ns, entry.used_ns))
        except FileNotFoundError:
            logger.warning("cached video %s vanished from %s", job_id, self.folder)
            self._pop(job_id)
            return None
        return entry.path

    @contextlib.asynccontextmanager
    async def reading(self, job_id: int) -> AsyncIterator[Path | None]:
        """`get`, but the file is kept until the block ends (for an upload, say)."""
        entry = self._entries.get(job_id)
        if entry is None:
            yield None
            return
        entry.readers += 1
        try:
            yield await self.get(job_id)
        finally:
            entry.readers -= 1
            async with self._lock:
                await self._evict()

    def _pop(self, job_id: int) -> _Entry | None:
        entry = self._entries.pop(job_id, None)
        if entry is not None:
            self._bytes -= entry.size
        return entry

    def _stamp(self) -> int:
        """Now, for a file's modification time, but strictly after the previous stamp: file
        clocks tick coarsely, and equal times would lose the order over a restart."""
        self._last_stamp_ns = max(time.time_ns(), self._last_stamp_ns + 1)
        return self._last_stamp_ns

    async def _evict(self, keep: int | None = None) -> None:
        """Drop the least recently used videos until under the cap, sparing those being
        read and the one just put (even if it alone exceeds the cap)."""
        while self._bytes > self.max_bytes:
            victim = next(
                (
                    (job_id, entry)
                    for job_id, entry in self._entries.items()
                    if not entry.readers and job_id != keep
                ),
                None,
            )
            if victim is None:
                return
            job_id, entry = victim
            self._pop(job_id)
            with contextlib.suppress(FileNotFoundError):
                await asyncio.to_thread(entry.path.unlink)


def _scan(folder: Path) -> OrderedDict[int, _Entry]:
    """The videos in `folder`, least recently used first; leftovers of interrupted puts
    are deleted."""
    folder.mkdir(parents=True, exist_ok=True)
    found: list[tuple[int, int, _Entry]] = []
    for path in folder.iterdir():
        if path.name.endswith(_TEMPORARY_SUFFIX):
            path.unlink(missing_ok=True)
            continue
        match = _NAME.match(path.name)
        if match is None or not path.is_file():
            continue
        stat = path.stat()
        found.append(
            (stat.st_mtime_ns, int(match[1]), _Entry(path, stat.st_size, stat.st_mtime_ns))
        )
    found.sort(key=lambda item: item[:2])
    return OrderedDict((job_id, entry) for _, job_id, entry in found)


def _store(source: Path, final: Path, move: bool, stamp_ns: int) -> int:
    """Bring `source` to `final` whole or not at all; return its size."""
    incoming = final.with_name(final.name + _TEMPORARY_SUFFIX)
    try:
        if move:
            shutil.move(source, incoming)
        else:
            shutil.copyfile(source, incoming)
        os.utime(incoming, ns=(stamp_ns, stamp_ns))
        os.replace(incoming, final)
    finally:
        incoming.unlink(missing_ok=True)
    return final.stat().st_size
