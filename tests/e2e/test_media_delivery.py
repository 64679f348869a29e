"""Real videos through the real bot: fitted to a server's upload limit, refitted after a
413, bad files refused in plain words, and the bot's own copy re-used after a restart.

The videos are made by FFmpeg in test setup: 2 s of noise at a high bitrate (about
1.2 MB), so fitting them under a few hundred kB is real work, yet takes about a second.
"""

from __future__ import annotations

import asyncio
import functools
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.formatting import megabytes
from bot.jobs.model import JobState
from bot.media.fitter import VideoFitter
from bot.media.probe import MediaFacts, probe
from testkit.discord import FakeMessage
from testkit.runcomfy import Endpoint, JobOutcome
from testkit.waiting import eventually
from tests.bot.media.media_factory import make_audio_only, make_video, truncate
from tests.e2e.harness import World, embed_text

LIMIT = 400_000
"""The small server's upload limit, in bytes: about a third of the source video."""
STUCK = (sys.executable, str(Path(__file__).parents[1] / "bot" / "media" / "stuck_fit_worker.py"))
"""A fit worker that says it started and then hangs."""
FIT_WAIT = 60.0
"""Real seconds a delivery with a re-encode may take on a busy two-core machine."""


@pytest.fixture(scope="module")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("e2e-media")


@dataclass(frozen=True)
class Source:
    path: Path
    data: bytes
    facts: MediaFacts


@pytest.fixture(scope="module")
def noisy(media_dir: Path) -> Source:
    """2 s, 320x240, 10 fps, ~5 Mbit/s of noise, with sound."""
    path = make_video(media_dir / "noisy.mp4", seconds=2.0, width=320, height=240, audio=True)
    return Source(path, path.read_bytes(), probe(path))


def serve(world: World, video: bytes) -> None:
    world.emulator.script_outcomes(JobOutcome.complete(video_data=video))


def posted_facts(notice: FakeMessage, folder: Path) -> MediaFacts:
    """The attached file, checked by the project's own probe."""
    [attachment] = notice.attachments
    path = folder / f"posted-{notice.id}.mp4"
    path.write_bytes(attachment.read())
    return probe(path)


def assert_same_video(posted: MediaFacts, source: MediaFacts) -> None:
    assert abs(posted.duration_seconds - source.duration_seconds) <= 0.2
    assert posted.has_audio == source.has_audio


async def test_a_video_over_the_upload_limit_is_re_encoded_to_fit(
    make_world, noisy: Source, tmp_path: Path
) -> None:
    world = await make_world(guild_options={"upload_limit": LIMIT})
    serve(world, noisy.data)
    job_id, status = await world.started_job(await world.generate())
    shown: list[str] = []

    def re_encoding(message: FakeMessage) -> bool:
        shown.append(embed_text(message))  # the message object changes with later edits
        return "Re-encoding" in shown[-1]

    noted = asyncio.create_task(world.fake.wait_for_edit(status, re_encoding, timeout=FIT_WAIT))

    notice = await world.wait_for_notice(job_id, within=FIT_WAIT)
    source = noisy.facts
    posted = posted_facts(notice, tmp_path)
    assert posted.size_bytes <= LIMIT
    assert_same_video(posted, source)
    assert f"fitted from {megabytes(source.size_bytes)}" in notice.text
    assert f"{posted.width}×{posted.height}" in notice.text
    assert f"{posted.duration_seconds:.1f} s" in notice.text
    request_id = next(iter(world.emulator.jobs))
    assert "Re-encoded to fit here" in notice.text
    assert request_id in notice.text, "the way to the original (its http link is not shown)"
    await noted
    assert "Re-encoding the video to under 0.4 MB so it plays in Discord" in shown[-1]
    final = await world.wait_for_status(status, "Delivered")
    assert "Re-encoding" not in embed_text(final)


async def test_a_video_within_the_limit_is_attached_as_it_is_with_its_facts(
    make_world, noisy: Source
) -> None:
    world = await make_world()
    serve(world, noisy.data)
    job_id, _ = await world.started_job(await world.generate())
    notice = await world.wait_for_notice(job_id)
    [attachment] = notice.attachments
    assert attachment.read() == noisy.data
    facts = noisy.facts
    assert f"2.0 s · 320×240 · {megabytes(facts.size_bytes)} · cost $" in notice.text
    assert "http" not in notice.text, "no link when the original is attached"


async def test_a_413_from_discord_refits_once_to_a_smaller_size(
    make_world, noisy: Source, tmp_path: Path
) -> None:
    world = await make_world()
    serve(world, noisy.data)
    job_id, _ = await world.started_job(await world.generate())
    smaller = noisy.facts.size_bytes * 9 // 10
    world.guild.upload_limit = smaller  # the channel now refuses what the command allowed

    notice = await world.wait_for_notice(job_id, within=FIT_WAIT)
    assert [e.status for e in world.fake.errors if e.status == 413] == [413]
    posted = posted_facts(notice, tmp_path)
    assert posted.size_bytes <= smaller
    assert_same_video(posted, noisy.facts)
    assert "fitted from" in notice.text


async def test_a_413_after_the_refit_posts_the_link(make_world, noisy: Source) -> None:
    world = await make_world()
    serve(world, noisy.data)
    job_id, _ = await world.started_job(await world.generate())
    world.guild.upload_limit = 1000  # nothing real fits

    notice = await world.wait_for_notice(job_id, within=FIT_WAIT)
    assert notice.attachments == []
    assert "Discord refused the file as too large" in notice.text
    assert next(iter(world.emulator.jobs)) in notice.text
    assert len(world.notices(job_id)) == 1


@pytest.mark.parametrize(
    ("kind", "words"),
    [
        ("text", "is not a playable video"),
        ("sound only", "is not a playable video"),
        ("truncated", "is damaged or cut short"),
    ],
)
async def test_a_bad_file_is_reported_with_the_link(
    make_world, noisy: Source, media_dir: Path, kind: str, words: str
) -> None:
    bad = {
        "text": lambda: b"<html>Not Found</html>\n" * 50,
        "sound only": lambda: make_audio_only(media_dir / "sound.m4a").read_bytes(),
        "truncated": lambda: truncate(noisy.path, media_dir / "cut.mp4").read_bytes(),
    }[kind]()
    world = await make_world()
    serve(world, bad)
    job_id, status = await world.started_job(await world.generate())

    notice = await world.wait_for_notice(job_id)
    assert notice.attachments == []
    assert words in notice.text
    assert next(iter(world.emulator.jobs)) in notice.text
    await world.wait_for_status(status, "Delivered")
    assert len(world.notices(job_id)) == 1, "reported once, no retry loop"


async def test_a_restart_between_download_and_post_uses_the_bots_copy(
    make_world, noisy: Source, tmp_path: Path
) -> None:
    world = await make_world(guild_options={"upload_limit": LIMIT})
    serve(world, noisy.data)
    job_id, _ = await world.started_job(await world.generate())
    world.fake.set_outage(True)
    await eventually(
        lambda: (job := world.bot.tracker.get(job_id)) is not None and job.notice_error is not None,
        within=FIT_WAIT,
        what="a failed attempt to post the fitted video",
    )
    downloads = world.emulator.counts[Endpoint.FILE]
    assert downloads == 1
    await world.stop_bot()
    world.emulator.fail(Endpoint.FILE, 404, error_code=None, times=None)  # the link is gone
    world.fake.set_outage(False)
    await world.start_bot()

    notice = await world.wait_for_notice(job_id, within=FIT_WAIT)
    posted = posted_facts(notice, tmp_path)
    assert posted.size_bytes <= LIMIT
    assert_same_video(posted, noisy.facts)
    assert world.emulator.counts[Endpoint.FILE] == downloads, "no new download"
    assert f"fitted from {megabytes(noisy.facts.size_bytes)}" in notice.text, (
        "the original's size is read from the kept copy itself after the restart"
    )
    assert next(iter(world.emulator.jobs)) in notice.text, "the way to the original"
    await eventually(lambda: world.bot.tracker.get(job_id) is None, what="delivery recorded")
    stored = await world.bot.tracker.fetch(job_id)
    assert stored.state is JobState.DELIVERED
    assert len(world.notices(job_id)) == 1


async def test_a_video_that_cannot_be_made_small_enough_is_posted_as_a_link(
    make_world, noisy: Source
) -> None:
    world = await make_world(guild_options={"upload_limit": 8_000})
    serve(world, noisy.data)
    job_id, status = await world.started_job(await world.generate())

    notice = await world.wait_for_notice(job_id, within=FIT_WAIT)
    assert notice.attachments == []
    assert "too large for this server's upload limit" in notice.text
    assert next(iter(world.emulator.jobs)) in notice.text
    assert "320×240" in notice.text, "the original's facts"
    await world.wait_for_status(status, "Delivered")


async def test_a_stuck_re_encode_holds_up_no_command_and_no_other_video(
    make_world, noisy: Source, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bot.app.VideoFitter", functools.partial(VideoFitter, command=STUCK))
    world = await make_world(
        guild_options={"upload_limit": LIMIT}, env={"FIT_TIME_LIMIT_SECONDS": "4"}
    )
    serve(world, noisy.data)
    big_id, big_status = await world.started_job(await world.generate())
    await world.wait_for_status(big_status, "Re-encoding", within=FIT_WAIT)

    small = await world.generate(world.bob)
    await small.wait_ack()
    assert small.acked_after < 1.0
    small_id, _ = await world.started_job(small)
    small_notice = await world.wait_for_notice(small_id)
    assert small_notice.attachments
    assert world.notices(big_id) == [], "the small video did not wait for the re-encode"

    big_notice = await world.wait_for_notice(big_id, within=FIT_WAIT)
    assert big_notice.attachments == []
    assert "re-encoding it took too long" in big_notice.text
    assert next(iter(world.emulator.jobs)) in big_notice.text


async def test_start_up_clears_leftover_downloads_and_keeps_videos_beside_the_database(
    make_world, tmp_path: Path
) -> None:
    world = await make_world(start=False)
    downloads = tmp_path / "data" / "downloads"
    downloads.mkdir(parents=True)
    leftover = downloads / "job-7-0123456789abcdef.mp4.part"
    leftover.write_bytes(b"half a video")
    await world.start_bot()
    assert not leftover.exists()

    job_id, _ = await world.started_job(await world.generate())
    await world.wait_for_notice(job_id)
    assert (tmp_path / "data" / "videos" / f"{job_id}.mp4").read_bytes() == (
        world.emulator.video_bytes(next(iter(world.emulator.jobs)))
    )
    left = [path for path in downloads.rglob("*") if path.is_file() and path.name != ".lock"]
    assert left == [], "nothing left behind after a delivery"
