"""The notifier posts what the delivery service hands it: the kept copy attached, or the
link with the reason in words; after Discord refuses a file as too large it asks for one
re-fit, and shows the service's progress on the status message."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from bot.discord_ui.notices import DEFAULT_UPLOAD_LIMIT, FILE_TOO_LARGE_CODE, ChannelNotifier
from bot.jobs.model import Job, JobOrigin, JobState
from bot.jobs.ports import NoticeError, NoticeProblem
from bot.media.delivery import (
    DeliveryObserver,
    DeliveryProgress,
    DeliveryStage,
    LinkOnly,
    LinkReason,
    NoFile,
    Prepared,
    PreparedVideo,
)
from bot.media.probe import MediaFacts
from tests.bot.discord_ui.cards import custom_ids_of, media_of
from tests.bot.discord_ui.notice_fakes import Channel, Client, Outbox, http_error
from tests.bot.jobs.factories import make_job

MIB = 1024 * 1024
URL = "https://files.example.com/out/video.mp4"
ORIGINAL = MediaFacts(
    duration_seconds=5.04,
    width=1280,
    height=720,
    frame_rate=24.0,
    video_codec="h264",
    has_audio=True,
    size_bytes=9 * MIB,
    bitrate=15_000_000,
)
SMALLER = MediaFacts(
    duration_seconds=5.04,
    width=960,
    height=540,
    frame_rate=24.0,
    video_codec="h264",
    has_audio=True,
    size_bytes=6 * MIB,
    bitrate=10_000_000,
    fitted_from_bytes=9 * MIB,
)
REFUSED = "Discord refused the file as too large for this channel"


@dataclass
class Delivery:
    """Hands out `outcomes` in order, first from `prepare`, then from `refit`; tells each
    observer one progress event of each stage."""

    outcomes: list[Prepared]
    kept: Path | None
    asked: list[tuple[Any, ...]] = field(default_factory=list)

    async def prepare(
        self,
        video_id: int,
        url: str,
        *,
        upload_limit: int,
        observer: DeliveryObserver | None = None,
    ) -> Prepared:
        self.asked.append(("prepare", video_id, url, upload_limit))
        return self._next(observer)

    async def refit(
        self, video_id: int, refused: PreparedVideo, *, observer: DeliveryObserver | None = None
    ) -> Prepared:
        self.asked.append(("refit", video_id, refused))
        return self._next(observer)

    @contextlib.asynccontextmanager
    async def holding(self, video_id: int) -> AsyncIterator[Path | None]:
        yield self.kept

    def _next(self, observer: DeliveryObserver | None) -> Prepared:
        assert observer is not None
        for stage in DeliveryStage:
            observer.delivery_progressed(DeliveryProgress(stage, 2 * MIB))
        return self.outcomes.pop(0)


@dataclass
class Notes:
    shown: list[tuple[int, str | None]] = field(default_factory=list)

    def set_note(self, job: Job, note: str | None) -> None:
        self.shown.append((job.id, note))


@pytest.fixture
def kept(tmp_path: Path) -> Path:
    path = tmp_path / "12.mp4"
    path.write_bytes(b"the kept copy")
    return path


def done(upload_limit: int | None = None) -> Job:
    origin = JobOrigin(requester_id=9, channel_id=1000, guild_id=100, upload_limit=upload_limit)
    return make_job(
        12, state=JobState.COMPLETED, origin=origin, output_url=URL, cost=Decimal("0.63")
    )


def rig(
    outcomes: list[Prepared], kept: Path | None, refusals: list[Any] | None = None
) -> tuple[ChannelNotifier, Delivery, Channel, Notes]:
    delivery, channel, notes = Delivery(outcomes, kept), Channel(refusals or []), Notes()
    notifier = ChannelNotifier(
        Client(channel),  # type: ignore[arg-type]
        Outbox(),  # type: ignore[arg-type]
        delivery,  # type: ignore[arg-type]
        notes,
    )
    return notifier, delivery, channel, notes


def too_large() -> Any:
    return http_error(413, "Request entity too large", code=FILE_TOO_LARGE_CODE)


async def test_a_ready_video_is_attached_with_its_facts(kept: Path) -> None:
    notifier, delivery, channel, notes = rig([PreparedVideo(kept, ORIGINAL, None)], kept)

    assert await notifier.send_notice(done(upload_limit=25 * MIB)) == 1

    assert delivery.asked == [("prepare", 12, URL, 25 * MIB)]
    [post] = channel.posts
    assert (post.file, post.filename) == (b"the kept copy", "video-12.mp4")
    assert post.text == (
        "<@9> your video **#12** is ready! 🎬\n"
        "> a red fox running through snow\n"
        "**Options** 5 s · 16:9 · sound on · guidance 0.5\n"
        "5.0 s · 1280×720 · 9.0 MB · cost $0.63"
    )
    assert media_of(post.card) == ["attachment://video-12.mp4"], "the video plays in the card"
    assert custom_ids_of(post.card) == ["video:reroll:12", "video:edit:12", "video:delete:12"]
    assert notes.shown == [
        (12, "⏳ Waiting to re-encode the video to fit this server's upload limit…"),
        (12, "🎞️ Re-encoding the video to under 2.0 MB so it plays in Discord…"),
        (12, None),
    ]


async def test_without_a_known_limit_discords_default_is_asked_for(kept: Path) -> None:
    notifier, delivery, _, _ = rig([PreparedVideo(kept, ORIGINAL, None)], kept)
    await notifier.send_notice(done())
    assert delivery.asked == [("prepare", 12, URL, DEFAULT_UPLOAD_LIMIT)]


async def test_a_video_without_a_file_is_a_link_with_the_reason_in_words() -> None:
    reason = LinkReason(NoFile.DOES_NOT_FIT, limit_bytes=2 * MIB)
    notifier, _, channel, _ = rig([LinkOnly(reason, ORIGINAL)], None)

    await notifier.send_notice(done())

    [post] = channel.posts
    assert post.file is None
    assert media_of(post.card) == [], "nothing to play"
    assert "even re-encoded (it had to fit under 2.0 MB), so here is the link" in post.text
    assert "1280×720" in post.text, "the original's facts"
    assert post.text.endswith(URL)


async def test_a_file_discord_refuses_is_re_fitted_once_and_attached(kept: Path) -> None:
    refused = PreparedVideo(kept, ORIGINAL, None)
    smaller = PreparedVideo(kept, SMALLER, 9 * MIB)
    notifier, delivery, channel, _ = rig([refused, smaller], kept, [too_large()])

    assert await notifier.send_notice(done()) == 2

    assert delivery.asked[1:] == [("refit", 12, refused)]
    assert [post.file for post in channel.posts] == [b"the kept copy"] * 2
    assert "6.0 MB (fitted from 9.0 MB)" in channel.posts[1].text


async def test_a_refit_without_a_file_posts_the_link_saying_both_reasons(kept: Path) -> None:
    gone = LinkOnly(LinkReason(NoFile.COPY_GONE))
    notifier, _, channel, _ = rig([PreparedVideo(kept, ORIGINAL, None), gone], kept, [too_large()])

    await notifier.send_notice(done())

    link = channel.posts[-1]
    assert link.file is None
    reasons = f"{REFUSED}. The bot no longer has its copy of the video, so here is the link"
    assert reasons in link.text
    assert "1280×720" in link.text, "the refused original's facts"


async def test_a_refitted_file_refused_too_posts_the_link(kept: Path) -> None:
    ready = [PreparedVideo(kept, ORIGINAL, None), PreparedVideo(kept, SMALLER, 9 * MIB)]
    notifier, delivery, channel, _ = rig(ready, kept, [too_large(), http_error(413)])

    assert await notifier.send_notice(done()) == 3

    assert [entry[0] for entry in delivery.asked] == ["prepare", "refit"], "one re-fit only"
    link = channel.posts[-1]
    assert link.file is None
    assert f"{REFUSED}, so here is the link instead" in link.text
    assert "960×540" in link.text, "the re-fitted copy's facts"


async def test_a_copy_gone_before_its_upload_is_retried_later() -> None:
    notifier, _, channel, _ = rig([PreparedVideo(Path("gone.mp4"), ORIGINAL, None)], None)
    with pytest.raises(NoticeError) as failed:
        await notifier.send_notice(done())
    assert (failed.value.problem, failed.value.retryable) == (NoticeProblem.COPY_GONE, True)
    assert channel.posts == []
