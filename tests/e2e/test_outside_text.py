"""Text from outside (RunComfy's failure reasons, its links) reaches members only redacted,
short enough for Discord, and as https links. The autouse scan in conftest.py checks every
e2e test for tokens in what was sent or logged; these tests feed it hostile input."""

from __future__ import annotations

from testkit.runcomfy import JobOutcome
from tests.e2e.harness import embed_text


async def test_a_failure_reason_echoing_the_token_is_redacted(world) -> None:
    reason = f"upstream said 401 for Authorization: Bearer {world.emulator.token}"
    world.emulator.script_outcomes(JobOutcome.fail(reason))
    job_id, status = await world.started_job(await world.generate())
    notice = await world.wait_for_notice(job_id)
    final = await world.wait_for_status(status, "Failed")
    for text in (notice.text, embed_text(final)):
        assert world.emulator.token not in text
        assert "Bearer [redacted]" in text


async def test_a_very_long_failure_reason_still_reaches_the_requester(world) -> None:
    world.emulator.script_outcomes(JobOutcome.fail("the model refused: " + "why " * 1500))
    job_id, status = await world.started_job(await world.generate())
    notice = await world.wait_for_notice(job_id)
    assert len(notice.text) <= 2000
    assert "could not be made" in notice.text
    assert "…" in notice.text
    await world.wait_for_status(status, "Failed")
    assert [e for e in world.fake.errors if e.status == 400] == []
