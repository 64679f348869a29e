"""A `VideoDelivery` on real files and a real worker, with the download replaced by a
fetcher that serves given bytes: shared by the delivery tests and the hostile-file tests."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from bot.media.cache import VideoCache
from bot.media.delivery import VideoDelivery
from bot.media.download import OutputFetchError, OutputTooLarge
from bot.media.fitter import VideoFitter
from bot.media.folder import DownloadFolder

URL = "https://files.example.com/out/video.mp4"


@dataclass
class Fetcher:
    """Serves one file's bytes, or fails as told; the cap is kept as OutputFetcher does."""

    served: bytes | OutputFetchError
    urls: list[str] = field(default_factory=list)

    async def fetch(self, url: str, destination: Path, *, max_bytes: int) -> int:
        self.urls.append(url)
        if isinstance(self.served, OutputFetchError):
            raise self.served
        if len(self.served) > max_bytes:
            raise OutputTooLarge(max_bytes, len(self.served))
        await asyncio.to_thread(destination.write_bytes, self.served)
        return len(self.served)


@dataclass
class Rig:
    delivery: VideoDelivery
    fetcher: Fetcher
    cache: VideoCache
    downloads: Path

    def leftovers(self) -> list[Path]:
        return [
            path for path in self.downloads.rglob("*") if path.is_file() and path.name != ".lock"
        ]


MakeRig = Callable[..., Awaitable[Rig]]


@pytest.fixture
async def make_rig(tmp_path: Path) -> AsyncIterator[MakeRig]:
    folders: list[DownloadFolder] = []

    async def make(
        served: bytes | OutputFetchError,
        *,
        max_download_bytes: int = 50_000_000,
        cache_bytes: int = 50_000_000,
        fitter: VideoFitter | None = None,
        fit_time_limit_seconds: float = 60.0,
    ) -> Rig:
        fetcher = Fetcher(served)
        folder = DownloadFolder(tmp_path / "downloads")
        folder.clear_leftovers()
        folders.append(folder)
        cache = await VideoCache.open(tmp_path / "videos", cache_bytes)
        delivery = VideoDelivery(
            fetcher,  # type: ignore[arg-type]
            folder=folder,
            cache=cache,
            fitter=fitter or VideoFitter(),
            max_download_bytes=max_download_bytes,
            fit_time_limit_seconds=fit_time_limit_seconds,
        )
        return Rig(delivery, fetcher, cache, tmp_path / "downloads")

    yield make
    for folder in folders:
        folder.close()
