"""The one table of a job's columns covers every field of a job and of its origin, and
reads back what it wrote (the database round trips: test_jobs.py)."""

from __future__ import annotations

from dataclasses import fields
from decimal import Decimal
from typing import Any

from bot.jobs.model import Failure, Job, JobOrigin, JobState, NoticeState
from bot.store.job_rows import COLUMNS, JOB_COLUMNS, from_row, to_row
from tests.bot.jobs.factories import make_job


def test_every_field_of_a_job_has_its_column() -> None:
    kept = {column.attribute for column in JOB_COLUMNS if not column.of_origin}
    assert kept == {field.name for field in fields(Job)} - {"id", "origin"}
    of_origin = {column.attribute for column in JOB_COLUMNS if column.of_origin}
    assert of_origin == {field.name for field in fields(JobOrigin)}
    assert len(set(COLUMNS)) == len(COLUMNS)


def test_a_row_reads_back_as_the_job_it_was_written_from() -> None:
    job = make_job(
        42,
        state=JobState.FAILED,
        failure=Failure.INPUT_REFUSED,
        failure_detail="the prompt is empty",
        cost=Decimal("0.70"),
        notice=NoticeState.PENDING,
        locale="pt",
        deleted_by=2**63 - 1,
        deleted_at=12.5,
    )
    row: dict[str, Any] = {"id": job.id, **dict(zip(COLUMNS, to_row(job), strict=True))}
    assert row["is_open"] == 1
    assert from_row(row) == job
