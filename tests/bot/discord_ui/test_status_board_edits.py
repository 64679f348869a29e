"""How often a status card is edited: once per real change of state or estimate. States a
job passes in a moment are not shown, a queue position that moved without moving the
estimate waits for the next edit, a new estimate must move by more than a fifth, and the
card says the job takes longer than usual when the tracker's reminder comes at the
estimate it shows."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import pytest

from bot.discord_ui import status_board
from bot.discord_ui.status_board import StatusBoard
from bot.jobs.eta import Basis, Eta
from bot.jobs.model import Job, JobState, NoticeState
from bot.runcomfy.pricing import Pricing
from testkit.waiting import eventually
from tests.bot.jobs.factories import make_job

INTERVAL = 0.05
"""Real seconds between edits, and how long a passing state must last to be shown."""
START = 1_800_000_000.0


@dataclass
class Reply:
    """The command's reply: every edit through its webhook, as the fields sent."""

    edits: list[dict[str, Any]] = field(default_factory=list)

    async def edit_original_response(self, **fields: Any) -> None:
        self.edits.append(fields)

    def statuses(self) -> list[str]:
        return [
            next(f["value"] for f in edit["embed"].to_dict()["fields"] if f["name"] == "Status")
            for edit in self.edits
        ]


class Outbox:
    def edit(self, *args: Any, **options: Any) -> None:
        raise AssertionError("the webhook route is used while the token lives")


@dataclass
class Tracker:
    """What the board asks of the tracker: estimates, reminders, the clock."""

    now: float = START
    estimates: dict[JobState, Eta | None] = field(default_factory=dict)
    reminders: list[tuple[int, float]] = field(default_factory=list)
    places: dict[int, int] = field(default_factory=dict)

    def estimate(self, job: Job) -> Eta | None:
        return self.estimates.get(job.state)

    def remind(self, job_id: int, when: float) -> None:
        self.reminders.append((job_id, when))


def eta(seconds: float) -> Eta:
    return Eta(START + seconds, 10.0, Basis.LEARNED)


def board_with(tracker: Tracker, reply: Reply) -> StatusBoard:
    board = StatusBoard(
        object(),  # type: ignore[arg-type]
        Outbox(),  # type: ignore[arg-type]
        pricing=Pricing(),
        place_in_line=lambda job_id: tracker.places.get(job_id),
        monotonic=lambda: 0.0,
        edit_interval=INTERVAL,
        estimate=tracker.estimate,
        remind=tracker.remind,
        now=lambda: tracker.now,
    )
    board.adopt(1, reply, usable_for=3600.0)  # type: ignore[arg-type]
    return board


def job_in(state: JobState, **changes: Any) -> Job:
    return make_job(1, state=state, status_message_id=7001, **changes)


async def settle(board: StatusBoard) -> None:
    await eventually(lambda: not board.kept_per_job()["webhook_edits"], what="idle")


async def test_a_plain_job_is_edited_once_per_state_it_stays_in() -> None:
    tracker, reply = Tracker(), Reply()
    tracker.estimates = {
        JobState.WAITING: eta(200),
        JobState.SUBMITTING: eta(200),
        JobState.QUEUED: eta(205),
        JobState.RUNNING: eta(190),
    }
    board = board_with(tracker, reply)
    for changed in (
        job_in(JobState.WAITING),
        job_in(JobState.SUBMITTING),
        job_in(JobState.QUEUED),
        job_in(JobState.QUEUED, queue_position=3),
    ):
        board.job_changed(changed)
        await asyncio.sleep(0.005)
    await settle(board)
    for position in (2, 1, 0):
        board.job_changed(job_in(JobState.QUEUED, queue_position=position))
        await settle(board)
    board.job_changed(job_in(JobState.RUNNING))
    await settle(board)
    board.job_changed(job_in(JobState.COMPLETED, notice=NoticeState.PENDING))
    await asyncio.sleep(INTERVAL / 5)
    board.job_changed(job_in(JobState.DELIVERED, notice=NoticeState.SENT, notice_message_id=9))
    await settle(board)

    statuses = reply.statuses()
    assert len(statuses) <= 4
    assert [status.split("\n")[0] for status in statuses] == [
        "🕒 Queued at RunComfy",
        "🎬 Generating",
        "✅ Delivered — [see the video](https://discord.com/channels/100/1000/9)",
    ]
    assert "<t:1800000205:R>" in statuses[0]
    assert "<t:1800000190:R>" in statuses[1]
    assert tracker.reminders == [(1, START + 205), (1, START + 190)]
    assert board.kept_per_job() == dict.fromkeys(board.kept_per_job(), 0)


async def test_a_state_that_lasts_is_shown() -> None:
    tracker, reply = Tracker(), Reply()
    board = board_with(tracker, reply)
    board.job_changed(job_in(JobState.RUNNING))
    await settle(board)
    board.job_changed(job_in(JobState.COMPLETED, notice=NoticeState.PENDING))
    await settle(board)
    assert [status.split(" ", 1)[1] for status in reply.statuses()] == [
        "Generating",
        "Finished, posting the video",
    ]


async def test_a_new_estimate_is_shown_only_when_it_moved_by_more_than_a_fifth() -> None:
    tracker, reply = Tracker(), Reply()
    tracker.estimates[JobState.QUEUED] = eta(100)
    board = board_with(tracker, reply)
    board.job_changed(job_in(JobState.QUEUED, queue_position=9))
    await settle(board)

    tracker.now = START + 50
    tracker.estimates[JobState.QUEUED] = eta(109)
    board.job_changed(job_in(JobState.QUEUED, queue_position=5))
    await settle(board)
    assert len(reply.edits) == 1, "9 s of the 50 left is less than a fifth"
    assert board.eta_of(job_in(JobState.QUEUED)) == eta(100), "/video status says the same"
    private, _ = board.render(job_in(JobState.QUEUED, queue_position=5))
    assert "position 6 at RunComfy" in str(private.to_dict()), "live there"

    tracker.estimates[JobState.QUEUED] = eta(111)
    board.job_changed(job_in(JobState.QUEUED, queue_position=4))
    await settle(board)
    assert len(reply.edits) == 2
    assert "position 5 at RunComfy" in reply.statuses()[-1]
    assert "<t:1800000111:R>" in reply.statuses()[-1]


async def test_past_its_estimate_the_card_says_it_takes_longer_until_the_state_changes() -> None:
    tracker, reply = Tracker(), Reply()
    tracker.estimates[JobState.RUNNING] = eta(60)
    board = board_with(tracker, reply)
    board.job_changed(job_in(JobState.RUNNING))
    await settle(board)
    assert tracker.reminders == [(1, START + 60)]

    tracker.now = START + 60
    tracker.estimates[JobState.RUNNING] = eta(60)
    board.job_changed(job_in(JobState.RUNNING))
    await settle(board)
    assert reply.statuses()[-1] == "🎬 Generating\nTaking longer than usual"

    tracker.estimates[JobState.RUNNING] = eta(400)
    board.job_changed(job_in(JobState.RUNNING))
    await settle(board)
    assert len(reply.edits) == 2
    assert tracker.reminders == [(1, START + 60)], "no reminder for a passed estimate"


async def test_a_queue_position_the_card_does_not_show_yet_is_not_drawn(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Drawing a card costs more than everything else a poll does: a change that leaves
    every input of the card as it was (the estimate held, the position waiting for the next
    edit) is skipped without drawing it; a change the card shows is drawn and sent."""
    drawn: list[Job] = []
    draw = status_board.status_embed

    def counting(job: Job, **options: Any) -> Any:
        drawn.append(job)
        return draw(job, **options)

    monkeypatch.setattr(status_board, "status_embed", counting)
    tracker, reply = Tracker(), Reply()
    tracker.estimates[JobState.QUEUED] = eta(100)
    board = board_with(tracker, reply)
    board.job_changed(job_in(JobState.QUEUED, queue_position=9))
    await settle(board)
    for position in (8, 7, 6):
        board.job_changed(job_in(JobState.QUEUED, queue_position=position, version=position))
        await settle(board)
    assert (len(drawn), len(reply.edits)) == (1, 1)

    board.job_changed(job_in(JobState.QUEUED, queue_position=5, failure_detail="other"))
    await settle(board)
    assert len(drawn) == 2, "another field of the job may change the card: drawn again"
    tracker.now = START + 100
    board.job_changed(job_in(JobState.QUEUED, queue_position=4))
    await settle(board)
    assert len(drawn) == 3
    assert reply.statuses()[-1].endswith("Taking longer than usual")
