from __future__ import annotations

from pathlib import Path

import pytest

from bot.media.cache import VideoCache

KB = 1000


def video(folder: Path, name: str, size: int = 10 * KB) -> Path:
    path = folder / name
    path.write_bytes(b"v" * size)
    return path


def names_in(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


@pytest.fixture
def incoming(tmp_path: Path) -> Path:
    folder = tmp_path / "incoming"
    folder.mkdir()
    return folder


async def test_a_put_video_is_moved_in_and_found_by_job_id(tmp_path: Path, incoming: Path) -> None:
    cache = await VideoCache.open(tmp_path / "cache", max_bytes=100 * KB)
    source = video(incoming, "fitted.mp4")

    stored = await cache.put(7, source)

    assert stored == tmp_path / "cache" / "7.mp4"
    assert stored.read_bytes() == b"v" * 10 * KB
    assert not source.exists()
    assert await cache.get(7) == stored
    assert await cache.get(8) is None
    assert cache.total_bytes == 10 * KB


async def test_a_copied_video_leaves_the_source(tmp_path: Path, incoming: Path) -> None:
    cache = await VideoCache.open(tmp_path / "cache", max_bytes=100 * KB)
    source = video(incoming, "fitted.mp4")

    await cache.put(7, source, move=False)

    assert source.exists()


async def test_the_least_recently_put_or_used_goes_first(tmp_path: Path, incoming: Path) -> None:
    cache = await VideoCache.open(tmp_path / "cache", max_bytes=30 * KB)
    for job_id in (1, 2, 3):
        await cache.put(job_id, video(incoming, f"{job_id}.mp4"))
    await cache.get(1)

    await cache.put(4, video(incoming, "4.mp4"))

    assert cache.job_ids() == [3, 1, 4]
    assert names_in(tmp_path / "cache") == ["1.mp4", "3.mp4", "4.mp4"]
    assert cache.total_bytes == 30 * KB


async def test_putting_a_job_again_replaces_its_video(tmp_path: Path, incoming: Path) -> None:
    cache = await VideoCache.open(tmp_path / "cache", max_bytes=100 * KB)
    await cache.put(1, video(incoming, "a.mp4", 10 * KB))

    await cache.put(1, video(incoming, "b.mp4", 20 * KB))

    assert cache.job_ids() == [1]
    assert cache.total_bytes == 20 * KB


async def test_a_video_being_read_is_not_evicted(tmp_path: Path, incoming: Path) -> None:
    cache = await VideoCache.open(tmp_path / "cache", max_bytes=20 * KB)
    await cache.put(1, video(incoming, "1.mp4"))
    await cache.put(2, video(incoming, "2.mp4"))

    async with cache.reading(1) as path:
        await cache.get(2)  # 1 is now the oldest, but it is being uploaded
        await cache.put(3, video(incoming, "3.mp4"))
        assert path is not None
        assert path.exists()
        assert cache.job_ids() == [1, 3]

    await cache.put(4, video(incoming, "4.mp4"))
    assert cache.job_ids() == [3, 4]


async def test_a_video_replaced_while_being_read_is_released_afterwards(
    tmp_path: Path, incoming: Path
) -> None:
    cache = await VideoCache.open(tmp_path / "cache", max_bytes=20 * KB)
    async with cache.reading(1):
        pass
    await cache.put(1, video(incoming, "1.mp4"))
    async with cache.reading(1):
        await cache.put(1, video(incoming, "1-again.mp4"))

    await cache.put(2, video(incoming, "2.mp4", 15 * KB))

    assert cache.job_ids() == [2]


async def test_once_reading_ends_an_over_full_cache_shrinks(tmp_path: Path, incoming: Path) -> None:
    cache = await VideoCache.open(tmp_path / "cache", max_bytes=20 * KB)
    await cache.put(1, video(incoming, "1.mp4"))
    async with cache.reading(1):
        await cache.put(2, video(incoming, "2.mp4", 15 * KB))
        assert cache.total_bytes == 25 * KB

    assert cache.job_ids() == [2]


async def test_a_video_larger_than_the_cap_is_kept_until_the_next_put(
    tmp_path: Path, incoming: Path
) -> None:
    cache = await VideoCache.open(tmp_path / "cache", max_bytes=20 * KB)
    await cache.put(1, video(incoming, "1.mp4"))

    await cache.put(2, video(incoming, "2.mp4", 50 * KB))
    assert cache.job_ids() == [2]

    await cache.put(3, video(incoming, "3.mp4"))
    assert cache.job_ids() == [3]


async def test_reading_a_missing_job_gives_none(tmp_path: Path) -> None:
    cache = await VideoCache.open(tmp_path / "cache", max_bytes=20 * KB)

    async with cache.reading(5) as path:
        assert path is None


async def test_a_restart_finds_the_videos_in_their_order(tmp_path: Path, incoming: Path) -> None:
    folder = tmp_path / "cache"
    cache = await VideoCache.open(folder, max_bytes=100 * KB)
    for job_id in (3, 1, 2):
        await cache.put(job_id, video(incoming, f"{job_id}.mp4"))
    await cache.get(3)
    (folder / "9.mp4.incoming").write_bytes(b"interrupted put")
    (folder / "notes.txt").write_text("not ours")

    reopened = await VideoCache.open(folder, max_bytes=100 * KB)

    assert reopened.job_ids() == [1, 2, 3]
    assert reopened.total_bytes == 30 * KB
    assert names_in(folder) == ["1.mp4", "2.mp4", "3.mp4", "notes.txt"]


async def test_a_restart_with_a_smaller_cap_evicts_the_oldest(
    tmp_path: Path, incoming: Path
) -> None:
    folder = tmp_path / "cache"
    cache = await VideoCache.open(folder, max_bytes=100 * KB)
    for job_id in (1, 2, 3):
        await cache.put(job_id, video(incoming, f"{job_id}.mp4"))

    reopened = await VideoCache.open(folder, max_bytes=15 * KB)

    assert reopened.job_ids() == [3]
    assert names_in(folder) == ["3.mp4"]


async def test_a_failed_put_leaves_nothing_behind(tmp_path: Path) -> None:
    cache = await VideoCache.open(tmp_path / "cache", max_bytes=100 * KB)

    with pytest.raises(FileNotFoundError):
        await cache.put(1, tmp_path / "missing.mp4")

    assert cache.job_ids() == []
    assert names_in(tmp_path / "cache") == []


async def test_a_cap_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="positive"):
        await VideoCache.open(tmp_path / "cache", max_bytes=0)
