"""The status board keeps nothing for a job once its status message has shown the end,
or can never show anything again (deleted, the channel gone, access lost): a bot that
runs for months must not hold a picture, a timestamp or a mark per job it is done with."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import discord
import pytest

from bot.discord_ui.status_board import StatusBoard
from bot.jobs.model import Job, JobState, NoticeState
from bot.runcomfy.pricing import Pricing
from testkit.waiting import eventually
from tests.bot.jobs.factories import make_job

UNKNOWN_MESSAGE = 10008
UNKNOWN_CHANNEL = 10003
MISSING_ACCESS = 50001


@dataclass
class Response:
    status: int
    reason: str = "refused"


def not_found(code: int) -> discord.NotFound:
    return discord.NotFound(Response(404), {"code": code, "message": "Unknown"})  # type: ignore[arg-type]


def forbidden() -> discord.Forbidden:
    return discord.Forbidden(Response(403), {"code": MISSING_ACCESS, "message": "Missing Access"})  # type: ignore[arg-type]


@dataclass
class Message:
    """Every edit of the status message; raises the queued errors first."""

    errors: list[discord.HTTPException] = field(default_factory=list)
    edits: list[dict[str, Any]] = field(default_factory=list)

    async def edit(self, **fields: Any) -> None:
        self.edits.append(fields)
        if self.errors:
            raise self.errors.pop(0)

    def get_partial_message(self, message_id: int) -> Message:
        return self


@dataclass
class Client:
    message: Message

    def get_partial_messageable(self, channel_id: int, **options: Any) -> Message:
        return self.message


@dataclass
class Outbox:
    """Runs queued edits when told to, newest per key, as the channel's lane would."""

    queued: dict[int, Any] = field(default_factory=dict)

    def edit(self, channel_id: int, key: int, operation: Any, *, important: bool = False) -> None:
        self.queued[key] = operation

    async def run(self) -> None:
        while self.queued:
            key = next(iter(self.queued))
            await self.queued.pop(key)()


def board_for(message: Message) -> tuple[StatusBoard, Outbox]:
    outbox = Outbox()
    board = StatusBoard(
        Client(message),  # type: ignore[arg-type]
        outbox,  # type: ignore[arg-type]
        pricing=Pricing(),
        place_in_line=lambda job_id: None,
        monotonic=lambda: 0.0,
    )
    return board, outbox


def queued(job_id: int = 1, place: int = 5) -> Job:
    return make_job(
        job_id, state=JobState.QUEUED, status_message_id=7000 + job_id, queue_position=place
    )


def over(job: Job) -> Job:
    return make_job(
        job.id,
        state=JobState.DELIVERED,
        status_message_id=job.status_message_id,
        notice=NoticeState.SENT,
        at=2_000.0,
    )


def kept(board: StatusBoard) -> dict[str, int]:
    return {name: count for name, count in board.kept_per_job().items() if count}


async def test_a_job_shown_to_its_end_leaves_nothing() -> None:
    message = Message()
    board, outbox = board_for(message)
    job = queued()
    board.job_changed(job)
    await outbox.run()
    board.job_changed(over(job))
    await outbox.run()

    assert len(message.edits) == 2
    assert kept(board) == {}


@pytest.mark.parametrize(
    "error",
    [not_found(UNKNOWN_MESSAGE), not_found(UNKNOWN_CHANNEL), forbidden()],
    ids=["message deleted", "channel deleted", "access lost"],
)
async def test_a_status_message_that_is_gone_leaves_nothing_once_its_job_is_over(
    error: discord.HTTPException,
) -> None:
    message = Message()
    board, outbox = board_for(message)
    job = queued()
    board.job_changed(job)
    await outbox.run()
    message.errors.append(error)
    board.job_changed(queued(place=4))
    await outbox.run()
    assert len(message.edits) == 2

    board.job_changed(over(job))
    await outbox.run()
    board.job_changed(over(job).update(2_100.0, notice_message_id=9000))
    await outbox.run()

    assert kept(board) == {}


async def test_nothing_is_sent_to_a_gone_message_while_its_job_runs() -> None:
    message = Message(errors=[not_found(UNKNOWN_MESSAGE)])
    board, outbox = board_for(message)
    job = queued()
    board.job_changed(job)
    await outbox.run()
    for n in range(3):
        board.job_changed(queued(place=4 - n))
        await outbox.run()

    assert len(message.edits) == 1, "a gone status message is not edited again"


@dataclass
class Interaction:
    """The command whose public reply is the status message, edited through its webhook."""

    message: Message

    async def edit_original_response(self, **fields: Any) -> None:
        await self.message.edit(**fields)


async def test_a_reply_deleted_while_edited_through_its_webhook_leaves_nothing() -> None:
    message = Message()
    board, outbox = board_for(message)
    job = queued()
    board.adopt(job.id, Interaction(message), usable_for=600.0)  # type: ignore[arg-type]
    board.job_changed(job)
    await eventually(lambda: len(message.edits) == 1, what="the first picture")
    message.errors.append(not_found(UNKNOWN_MESSAGE))
    board.job_changed(queued(place=4))
    await eventually(lambda: len(message.edits) == 2, what="the refused edit")

    board.job_changed(over(job))
    await eventually(lambda: not board.kept_per_job()["webhook_edits"], what="idle")
    await outbox.run()

    assert kept(board) == {}
