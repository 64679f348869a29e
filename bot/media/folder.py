"""One folder for downloaded videos, emptied of a previous run's leftovers at start-up.

Files are removed as soon as a delivery is done, but a crash or a kill in between leaves
them (finished videos and `.part` files alike) on disk forever. Every file this folder
hands out has a recognisable name, so at start-up it removes exactly those and nothing
else, even if it was pointed at a folder that holds other things by mistake.

Several bot processes may share one folder (one machine, one working directory, a shared
PostgreSQL database). Each works in a subfolder of its own, locked with `flock` for as
long as it lives; the kernel drops the lock when the process ends, however it ends, so
at start-up a process clears exactly the subfolders no living process holds.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import re
import secrets
from collections.abc import Iterator
from pathlib import Path

logger = logging.getLogger(__name__)

_PREFIX = "job-"
_NAME = re.compile(r"job-\d+-[0-9a-f]{16}(\.[A-Za-z0-9]{1,8})?(\.part)?")
_SUFFIX = re.compile(r"\.[A-Za-z0-9]{1,8}")
_PROCESS = re.compile(r"process-[0-9a-f]{16}")
_LOCK = ".lock"


class DownloadFolder:
    """Owns `root`: hands out unique paths for a job's files and clears leftovers."""

    def __init__(self, root: Path) -> None:
        self._root = root
        self._own = root
        self._lock_fd: int | None = None

    def __repr__(self) -> str:
        return f"DownloadFolder({self._root!r})"

    @property
    def root(self) -> Path:
        return self._root

    def clear_leftovers(self) -> int:
        """Create the folder if needed, remove files a process that is gone left behind,
        and take a locked subfolder of this process's own for its downloads.

        Call once at start-up, before any download starts; returns how many were removed.
        Blocking file system work: run it in a thread from async code.
        """
        self._root.mkdir(parents=True, exist_ok=True)
        removed = 0
        for entry in self._root.iterdir():
            if _PROCESS.fullmatch(entry.name) and entry.is_dir() and not entry.is_symlink():
                removed += _clear_if_abandoned(entry)
                continue
            if not is_download_name(entry.name):
                logger.warning("Left alone %s: the download folder did not make it", entry)
                continue
            if _remove_file(entry):
                removed += 1
        if removed:
            logger.info("Removed %d leftover download file(s) from %s", removed, self._root)
        self._take_own_folder()
        return removed

    def _take_own_folder(self) -> None:
        if self._lock_fd is not None:
            return
        own = self._root / f"process-{secrets.token_hex(8)}"
        own.mkdir()
        fd = os.open(own / _LOCK, os.O_CREAT | os.O_RDWR, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        self._own, self._lock_fd = own, fd

    def close(self) -> None:
        """Give the own subfolder up (removed with anything left in it at the next start)."""
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def new_path(self, job_id: int, suffix: str = ".mp4") -> Path:
        """A fresh path for one of job `job_id`'s files; two calls never collide."""
        if job_id < 0:
            raise ValueError("job_id must not be negative")
        if not _SUFFIX.fullmatch(suffix):
            raise ValueError(f"not a plain file suffix: {suffix!r}")
        return self._own / f"{_PREFIX}{job_id}-{secrets.token_hex(8)}{suffix}"

    @contextlib.contextmanager
    def file_for(self, job_id: int, suffix: str = ".mp4") -> Iterator[Path]:
        """A fresh path that is removed (with its `.part` file) when the block ends."""
        path = self.new_path(job_id, suffix)
        try:
            yield path
        finally:
            discard(path)


def _clear_if_abandoned(folder: Path) -> int:
    """Empty and remove another process's subfolder, unless that process still holds it."""
    try:
        fd = os.open(folder / _LOCK, os.O_CREAT | os.O_RDWR, 0o600)
    except OSError as error:
        logger.warning("Left alone %s: %s", folder, error)
        return 0
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return 0
        removed = 0
        for entry in folder.iterdir():
            if is_download_name(entry.name) and _remove_file(entry):
                removed += 1
        with contextlib.suppress(FileNotFoundError):
            (folder / _LOCK).unlink()
        with contextlib.suppress(OSError):
            folder.rmdir()
        return removed
    finally:
        os.close(fd)


def is_download_name(name: str) -> bool:
    """True for names `DownloadFolder.new_path` makes, and their `.part` files."""
    return _NAME.fullmatch(name) is not None


def discard(path: Path) -> None:
    """Remove a downloaded file and its `.part` file, if they exist."""
    _remove_file(path)
    _remove_file(path.with_name(path.name + ".part"))


def _remove_file(path: Path) -> bool:
    """Remove a file or symlink (never a folder); False if there was nothing to remove."""
    if path.is_dir() and not path.is_symlink():
        logger.warning("Left alone %s: it is a folder", path)
        return False
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    return True
