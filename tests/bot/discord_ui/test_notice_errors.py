"""A notice Discord refuses is posted shorter once; a refusal that will repeat is not retried."""

from __future__ import annotations

import discord
import pytest

from bot.discord_ui.notices import ChannelNotifier
from bot.jobs.model import Failure, JobState
from bot.jobs.ports import NoticeError, NoticeProblem, read_notice_record
from tests.bot.discord_ui.notice_fakes import Channel, Client, Outbox, Response, http_error
from tests.bot.jobs.factories import make_job


def notifier(channel: Channel) -> ChannelNotifier:
    return ChannelNotifier(
        Client(channel),  # type: ignore[arg-type]
        Outbox(),  # type: ignore[arg-type]
        delivery=None,  # type: ignore[arg-type]
        notes=None,  # type: ignore[arg-type]
    )


FAILED = make_job(5, state=JobState.FAILED, failure=Failure.GENERATION_FAILED, failure_detail="no")


async def test_a_refused_body_is_posted_once_in_its_short_form() -> None:
    channel = Channel([http_error(400)])
    assert await notifier(channel).send_notice(FAILED) == 2
    first, second = channel.sent
    assert len(second) < len(first)
    assert "**#5**" in second


async def test_a_short_form_refused_too_is_not_retried() -> None:
    channel = Channel([http_error(400), http_error(400)])
    with pytest.raises(NoticeError) as failed:
        await notifier(channel).send_notice(FAILED)
    assert failed.value.retryable is False
    assert len(channel.sent) == 2


@pytest.mark.parametrize(
    ("status", "retryable"),
    [(401, False), (403, False), (404, False), (405, False), (429, True), (500, True)],
)
async def test_only_transient_errors_are_retried(status: int, retryable: bool) -> None:
    channel = Channel([http_error(status, "Bearer rc-leaky-token-1234 " + "x" * 3000)])
    with pytest.raises(NoticeError) as failed:
        await notifier(channel).send_notice(FAILED)
    assert failed.value.retryable is retryable
    assert "rc-leaky-token-1234" not in str(failed.value)
    assert len(str(failed.value)) < 700


@pytest.mark.parametrize(
    ("error", "problem", "detail"),
    [
        (
            discord.Forbidden(Response(403), {"code": 50001, "message": "Missing Access"}),
            NoticeProblem.MISSING_PERMISSION,
            "Missing Access",
        ),
        (
            discord.NotFound(Response(404), {"code": 10003, "message": "Unknown Channel"}),
            NoticeProblem.CHANNEL_GONE,
            "Unknown Channel",
        ),
        (http_error(503, "upstream down"), NoticeProblem.DISCORD_ERROR, "503 upstream down"),
    ],
)
async def test_a_refused_notice_records_its_problem_for_any_language_to_word(
    error: discord.HTTPException, problem: NoticeProblem, detail: str
) -> None:
    with pytest.raises(NoticeError) as failed:
        await notifier(Channel([error, error])).send_notice(FAILED)
    assert (failed.value.problem, failed.value.detail) == (problem, detail)
    assert read_notice_record(str(failed.value)) == (problem, detail)
