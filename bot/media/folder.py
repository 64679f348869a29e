"""One folder for downloaded videos, emptied of a previous run's leftovers at start-up.

Files are removed as soon as a delivery is done, but a crash or a kill in between leaves
them (finished videos and `.part` files alike) on disk forever. Every file this folder
hands out has a recognisable name, so at start-up it removes exactly those and nothing
else, even if it was pointed at a folder that holds other things by mistake.
"""

from __future__ import annotations

import contextlib
import logging
import re
import secrets
from collections.abc import Iterator
from pathlib import Path

logger = logging.getLogger(__name__)

_PREFIX = "job-"
_NAME = re.compile(r"job-\d+-[0-9a-f]{16}(\.[A-Za-z0-9]{1,8})?(\.part)?")
_SUFFIX = re.compile(r"\.[A-Za-z0-9]{1,8}")


class DownloadFolder:
    """Owns `root`: hands out unique paths for a job's files and clears leftovers."""

    def __init__(self, root: Path) -> None:
        self._root = root

    def __repr__(self) -> str:
        return f"DownloadFolder({self._root!r})"

    @property
    def root(self) -> Path:
        return self._root

    def clear_leftovers(self) -> int:
        """Create the folder if needed and remove files a previous process left behind.

        Call once at start-up, before any download starts; returns how many were removed.
        Blocking file system work: run it in a thread from async code.
        """
        self._root.mkdir(parents=True, exist_ok=True)
        removed = 0
        for entry in self._root.iterdir():
            if not is_download_name(entry.name):
                logger.warning("Left alone %s: the download folder did not make it", entry)
                continue
            if _remove_file(entry):
                removed += 1
        if removed:
            logger.info("Removed %d leftover download file(s) from %s", removed, self._root)
        return removed

    def new_path(self, job_id: int, suffix: str = ".mp4") -> Path:
        """A fresh path for one of job `job_id`'s files; two calls never collide."""
        if job_id < 0:
            raise ValueError("job_id must not be negative")
        if not _SUFFIX.fullmatch(suffix):
            raise ValueError(f"not a plain file suffix: {suffix!r}")
        return self._root / f"{_PREFIX}{job_id}-{secrets.token_hex(8)}{suffix}"

    @contextlib.contextmanager
    def file_for(self, job_id: int, suffix: str = ".mp4") -> Iterator[Path]:
        """A fresh path that is removed (with its `.part` file) when the block ends."""
        path = self.new_path(job_id, suffix)
        try:
            yield path
        finally:
            discard(path)


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
