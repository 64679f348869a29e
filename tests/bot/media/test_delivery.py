"""VideoDelivery alone, on real videos: attached as it is within the limit, re-encoded
when over (with its progress told), the kept copy re-used without a new download,
re-fitted after a refusal, and every way there is no file named by a typed reason."""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from bot.media.delivery import (
    REFUSED_SHARE,
    DeliveryProgress,
    DeliveryStage,
    LinkOnly,
    LinkReason,
    NoFile,
    PreparedVideo,
    fit_reason,
    fit_target,
    media_reason,
)
from bot.media.download import OutputFetchError
from bot.media.errors import BadMedia, DoesNotFit, FitFailed, FitTimedOut, MediaError, NotAVideo
from bot.media.fitter import VideoFitter
from bot.media.probe import MediaFacts, probe
from tests.bot.media.delivery_rig import URL
from tests.bot.media.media_factory import truncate

MEDIA = Path(__file__).resolve().parents[3] / "bot" / "media"
STUCK = (sys.executable, str(Path(__file__).with_name("stuck_fit_worker.py")))


@dataclass(frozen=True)
class Source:
    data: bytes
    facts: MediaFacts


@pytest.fixture
def noisy(noisy_with_sound: Path) -> Source:
    return Source(noisy_with_sound.read_bytes(), probe(noisy_with_sound))


@dataclass
class Heard:
    said: list[DeliveryProgress] = field(default_factory=list)

    def delivery_progressed(self, progress: DeliveryProgress) -> None:
        self.said.append(progress)

    @property
    def stages(self) -> list[DeliveryStage]:
        """Each stage once, in the order first heard."""
        return list(dict.fromkeys(progress.stage for progress in self.said))


async def test_a_video_within_the_limit_is_kept_as_it_is(make_rig, noisy: Source) -> None:
    data = noisy.data
    rig = await make_rig(data)
    heard = Heard()

    ready = await rig.delivery.prepare(7, URL, upload_limit=len(data), observer=heard)

    assert isinstance(ready, PreparedVideo)
    assert ready.path.read_bytes() == data
    assert ready.facts == noisy.facts
    assert ready.fitted_from is None
    assert rig.fetcher.urls == [URL]
    assert heard.said == [], "nothing to re-encode, nothing to tell"
    assert rig.leftovers() == []


async def test_a_video_over_the_limit_is_re_encoded_under_it_and_its_progress_told(
    make_rig, noisy: Source
) -> None:
    data = noisy.data
    limit = len(data) // 3
    rig = await make_rig(data)
    heard = Heard()

    ready = await rig.delivery.prepare(7, URL, upload_limit=limit, observer=heard)

    assert isinstance(ready, PreparedVideo)
    assert ready.facts.size_bytes <= fit_target(limit)
    assert ready.fitted_from == len(data)
    assert probe(ready.path) == ready.facts
    assert heard.stages == [
        DeliveryStage.WAITING_TO_FIT,
        DeliveryStage.FITTING,
        DeliveryStage.FIT_OVER,
    ]
    assert {progress.target_bytes for progress in heard.said} == {fit_target(limit)}
    assert heard.said[-1].stage is DeliveryStage.FIT_OVER
    assert rig.leftovers() == []


async def test_the_kept_copy_is_used_again_without_a_download(make_rig, noisy: Source) -> None:
    data = noisy.data
    rig = await make_rig(data)
    first = await rig.delivery.prepare(7, URL, upload_limit=len(data) // 3)
    rig.fetcher.served = OutputFetchError("the link has expired")

    again = await rig.delivery.prepare(7, URL, upload_limit=len(data) // 3)

    assert isinstance(first, PreparedVideo)
    assert again == first, "the original's size is read from the kept copy's own tag"
    assert rig.fetcher.urls == [URL]


async def test_a_refused_copy_is_re_fitted_well_under_its_own_size(make_rig, noisy: Source) -> None:
    data = noisy.data
    rig = await make_rig(data)
    refused = await rig.delivery.prepare(7, URL, upload_limit=len(data))
    assert isinstance(refused, PreparedVideo)
    heard = Heard()

    smaller = await rig.delivery.refit(7, refused, observer=heard)

    assert isinstance(smaller, PreparedVideo)
    assert smaller.facts.size_bytes <= int(len(data) * REFUSED_SHARE)
    assert smaller.fitted_from == len(data)
    assert smaller.path == refused.path, "the smaller copy replaces the refused one"
    assert probe(smaller.path) == smaller.facts
    assert heard.said[-1] == DeliveryProgress(
        DeliveryStage.FIT_OVER, int(len(data) * REFUSED_SHARE)
    )


async def test_a_copy_evicted_before_its_re_fit_is_gone(make_rig, noisy: Source) -> None:
    data = noisy.data
    rig = await make_rig(data, cache_bytes=len(data) + 1)
    refused = await rig.delivery.prepare(7, URL, upload_limit=len(data))
    assert isinstance(refused, PreparedVideo)
    await rig.delivery.prepare(8, URL, upload_limit=len(data))  # evicts video 7

    assert await rig.delivery.refit(7, refused) == LinkOnly(LinkReason(NoFile.COPY_GONE))
    async with rig.delivery.holding(7) as path:
        assert path is None
    async with rig.delivery.holding(8) as path:
        assert path is not None
        assert path.read_bytes() == data


async def test_a_video_over_the_download_cap_names_the_sizes(make_rig, noisy: Source) -> None:
    data = noisy.data
    rig = await make_rig(data, max_download_bytes=len(data) - 1)

    outcome = await rig.delivery.prepare(7, URL, upload_limit=100_000)

    assert outcome == LinkOnly(
        LinkReason(
            NoFile.TOO_LARGE_TO_DOWNLOAD,
            size_bytes=len(data),
            limit_bytes=100_000,
            download_limit_bytes=len(data) - 1,
        )
    )
    assert rig.cache.job_ids() == []


async def test_a_failed_download_is_a_link(make_rig) -> None:
    rig = await make_rig(OutputFetchError("The server answered 404."))
    outcome = await rig.delivery.prepare(7, URL, upload_limit=100_000)
    assert outcome == LinkOnly(LinkReason(NoFile.DOWNLOAD_FAILED))
    assert rig.leftovers() == []


@pytest.mark.parametrize(
    ("kind", "reason"),
    [("text", NoFile.NOT_A_VIDEO), ("sound only", NoFile.NOT_A_VIDEO), ("cut", NoFile.DAMAGED)],
)
async def test_a_bad_file_is_not_kept(
    make_rig, noisy_with_sound: Path, sound_only: Path, tmp_path: Path, kind: str, reason: NoFile
) -> None:
    bad = {
        "text": lambda: b"<html>Not Found</html>\n" * 50,
        "sound only": sound_only.read_bytes,
        "cut": lambda: truncate(noisy_with_sound, tmp_path / "cut.mp4").read_bytes(),
    }[kind]()
    rig = await make_rig(bad)

    assert await rig.delivery.prepare(7, URL, upload_limit=100_000) == LinkOnly(LinkReason(reason))
    assert rig.cache.job_ids() == []
    assert rig.leftovers() == []


async def test_a_video_that_cannot_be_made_small_enough_keeps_the_originals_facts(
    make_rig, noisy: Source
) -> None:
    rig = await make_rig(noisy.data)
    heard = Heard()

    outcome = await rig.delivery.prepare(7, URL, upload_limit=8_000, observer=heard)

    assert outcome == LinkOnly(
        LinkReason(NoFile.DOES_NOT_FIT, limit_bytes=fit_target(8_000)), noisy.facts
    )
    assert heard.said[-1].stage is DeliveryStage.FIT_OVER
    assert rig.cache.job_ids() == []
    assert rig.leftovers() == []


async def test_a_re_encode_over_its_time_is_a_link(make_rig, noisy: Source) -> None:
    data = noisy.data
    stuck = VideoFitter(command=STUCK, kill_grace_seconds=0.1)
    rig = await make_rig(data, fitter=stuck, fit_time_limit_seconds=0.5)
    heard = Heard()

    outcome = await rig.delivery.prepare(7, URL, upload_limit=len(data) // 3, observer=heard)

    assert isinstance(outcome, LinkOnly)
    assert outcome.reason == LinkReason(NoFile.FIT_TOO_SLOW)
    assert heard.stages == [
        DeliveryStage.WAITING_TO_FIT,
        DeliveryStage.FITTING,
        DeliveryStage.FIT_OVER,
    ]


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (NotAVideo("The file job-1-0123456789abcdef.mp4 is not a video."), NoFile.NOT_A_VIDEO),
        (BadMedia("The video job-1-0123456789abcdef.mp4 is cut short."), NoFile.DAMAGED),
        (MediaError("odd"), NoFile.UNREADABLE),
    ],
)
def test_an_unreadable_file_is_named_by_its_kind(error: MediaError, reason: NoFile) -> None:
    assert media_reason(error) == LinkReason(reason)
    assert fit_reason(error, 1000).kind is (
        NoFile.FIT_FAILED if reason is NoFile.UNREADABLE else reason
    )


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (DoesNotFit("x"), LinkReason(NoFile.DOES_NOT_FIT, limit_bytes=1000)),
        (FitTimedOut(), LinkReason(NoFile.FIT_TOO_SLOW)),
        (FitFailed("worker died"), LinkReason(NoFile.FIT_FAILED)),
    ],
)
def test_a_failed_re_encode_is_named_with_the_size_it_aimed_under(
    error: MediaError, reason: LinkReason
) -> None:
    assert fit_reason(error, 1000) == reason


def test_media_knows_neither_discord_nor_jobs() -> None:
    """bot/media is the delivery's Discord-free half: it names no chat service and no job."""
    imported = set()
    for path in MEDIA.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                imported |= {(path.name, alias.name) for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module:
                imported.add((path.name, node.module))
    assert len(imported) > 50
    assert [
        (name, module)
        for name, module in imported
        if module.split(".")[0] in {"discord", "cogs"}
        or module.startswith(("bot.discord_ui", "bot.jobs"))
    ] == []
