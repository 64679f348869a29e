"""The RunComfy emulator's own tests, with raw HTTP (not the bot's client).

They pin the contract the bot is tested against: answer shapes, validation, auth,
the job lifecycle with workers and queue positions, file serving with ranges, and
every fault knob.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import struct
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from multidict import CIMultiDictProxy

from testkit.runcomfy import (
    CHUNK_BYTES,
    MODEL_ID,
    SAMPLE_MP4,
    SUBMIT_PATH,
    Endpoint,
    Fault,
    JobOutcome,
    ManualClock,
    RunComfyEmulator,
    validate_inputs,
)

PROMPT = "a paper boat drifting down a rain gutter"


@dataclass
class Answer:
    status: int
    body: Any
    headers: CIMultiDictProxy[str]


async def call(
    http: aiohttp.ClientSession,
    emulator: RunComfyEmulator,
    method: str,
    path: str,
    *,
    body: Any = None,
    data: bytes | None = None,
    token: str | None = "",
    headers: dict[str, str] | None = None,
) -> Answer:
    sent = dict(headers or {})
    if token is not None:
        sent["Authorization"] = f"Bearer {token or emulator.token}"
    async with http.request(
        method, emulator.base_url + path, json=body, data=data, headers=sent
    ) as response:
        raw = await response.read()
        try:
            parsed: Any = json.loads(raw)
        except ValueError:
            parsed = raw
        return Answer(response.status, parsed, response.headers)


async def submit(http: aiohttp.ClientSession, emulator: RunComfyEmulator, **fields: Any) -> Answer:
    return await call(http, emulator, "POST", SUBMIT_PATH, body={"prompt": PROMPT, **fields})


async def submit_id(http: aiohttp.ClientSession, emulator: RunComfyEmulator, **fields: Any) -> str:
    answer = await submit(http, emulator, **fields)
    assert answer.status == 200, answer.body
    return answer.body["request_id"]


async def status(http: aiohttp.ClientSession, emulator: RunComfyEmulator, rid: str) -> Answer:
    return await call(http, emulator, "GET", f"/v1/requests/{rid}/status")


async def result(
    http: aiohttp.ClientSession, emulator: RunComfyEmulator, rid: str, cost: bool = True
) -> Answer:
    query = "?include_cost=true" if cost else ""
    return await call(http, emulator, "GET", f"/v1/requests/{rid}/result{query}")


async def cancel(http: aiohttp.ClientSession, emulator: RunComfyEmulator, rid: str) -> Answer:
    return await call(http, emulator, "POST", f"/v1/requests/{rid}/cancel")


def mp4_boxes(data: bytes) -> list[tuple[bytes, int]]:
    boxes, position = [], 0
    while position < len(data):
        size, kind = struct.unpack(">I4s", data[position : position + 8])
        if size == 1:
            size = struct.unpack(">Q", data[position + 8 : position + 16])[0]
        assert size >= 8
        boxes.append((kind, size))
        position += size
    assert position == len(data)
    return boxes


# ------------------------------------------------------------------ contract shapes


async def test_submit_answers_request_id_and_urls(http, emulator) -> None:
    answer = await submit(http, emulator, duration=5)
    assert answer.status == 200
    rid = answer.body["request_id"]
    base = f"{emulator.base_url}/v1/requests/{rid}"
    assert answer.body == {
        "request_id": rid,
        "status_url": f"{base}/status",
        "result_url": f"{base}/result",
        "cancel_url": f"{base}/cancel",
    }
    assert emulator.job(rid).payload == {"prompt": PROMPT, "duration": 5}


async def test_status_shape_while_queued(http, emulator) -> None:
    emulator.set_workers(0)
    rid = await submit_id(http, emulator)
    answer = await status(http, emulator, rid)
    assert answer.body == {
        "request_id": rid,
        "status": "in_queue",
        "queue_position": 0,
        "status_url": f"{emulator.base_url}/v1/requests/{rid}/status",
        "result_url": f"{emulator.base_url}/v1/requests/{rid}/result",
    }


async def test_result_before_completion_answers_the_current_status(http, emulator, clock) -> None:
    rid = await submit_id(http, emulator)
    answer = await result(http, emulator, rid)
    assert answer.status == 200
    assert answer.body["status"] == "in_progress"
    assert "output" not in answer.body
    assert "cost" not in answer.body


async def test_result_after_completion(http, emulator, clock) -> None:
    rid = await submit_id(http, emulator, duration=10, sound=False)
    clock.advance(60)
    answer = await result(http, emulator, rid)
    job = emulator.job(rid)
    assert answer.body == {
        "request_id": rid,
        "status": "completed",
        "output": {"video": f"{emulator.base_url}/files/{rid}.mp4"},
        "created_at": answer.body["created_at"],
        "finished_at": answer.body["finished_at"],
        "error": None,
        "cost": 0.84,
        "model_id": MODEL_ID,
    }
    assert answer.body["created_at"].endswith("Z")
    created = email.utils.parsedate_to_datetime(
        email.utils.formatdate(job.submitted_at, usegmt=True)
    )
    assert answer.body["created_at"].startswith(created.strftime("%Y-%m-%dT%H:%M"))
    assert job.finished_at == job.submitted_at + 60


@pytest.mark.parametrize(
    ("fields", "cost"),
    [({}, 0.63), ({"sound": True}, 0.63), ({"sound": False}, 0.42), ({"duration": 15}, 1.89)],
)
async def test_cost_is_duration_times_rate(http, emulator, clock, fields, cost) -> None:
    rid = await submit_id(http, emulator, **fields)
    clock.advance(60)
    assert (await result(http, emulator, rid)).body["cost"] == pytest.approx(cost)


async def test_result_without_include_cost(http, emulator, clock) -> None:
    rid = await submit_id(http, emulator)
    clock.advance(60)
    body = (await result(http, emulator, rid, cost=False)).body
    assert body["status"] == "completed"
    assert "cost" not in body
    assert "model_id" not in body


async def test_unknown_request_id_is_404001(http, emulator) -> None:
    for answer in (
        await status(http, emulator, "nope"),
        await result(http, emulator, "nope"),
        await cancel(http, emulator, "nope"),
    ):
        assert answer.status == 404
        assert answer.body["error_code"] == 404001


# ---------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("payload", "loc"),
    [
        ({}, ["body", "prompt"]),
        ({"prompt": ""}, ["body", "prompt"]),
        ({"prompt": "   "}, ["body", "prompt"]),
        ({"prompt": 5}, ["body", "prompt"]),
        ({"prompt": "x" * 2501}, ["body", "prompt"]),
        ({"prompt": PROMPT, "negative_prompt": "n" * 2501}, ["body", "negative_prompt"]),
        ({"prompt": PROMPT, "negative_prompt": None}, ["body", "negative_prompt"]),
        ({"prompt": PROMPT, "duration": 2}, ["body", "duration"]),
        ({"prompt": PROMPT, "duration": 16}, ["body", "duration"]),
        ({"prompt": PROMPT, "duration": 5.0}, ["body", "duration"]),
        ({"prompt": PROMPT, "duration": "5"}, ["body", "duration"]),
        ({"prompt": PROMPT, "duration": True}, ["body", "duration"]),
        ({"prompt": PROMPT, "aspect_ratio": "4:3"}, ["body", "aspect_ratio"]),
        ({"prompt": PROMPT, "cfg_scale": 1.5}, ["body", "cfg_scale"]),
        ({"prompt": PROMPT, "cfg_scale": -0.1}, ["body", "cfg_scale"]),
        ({"prompt": PROMPT, "cfg_scale": "0.5"}, ["body", "cfg_scale"]),
        ({"prompt": PROMPT, "cfg_scale": False}, ["body", "cfg_scale"]),
        ({"prompt": PROMPT, "sound": "yes"}, ["body", "sound"]),
        ({"prompt": PROMPT, "sound": 1}, ["body", "sound"]),
        ({"prompt": PROMPT, "shot_type": "auto"}, ["body", "shot_type"]),
        ({"prompt": PROMPT, "multi_prompt": "one"}, ["body", "multi_prompt"]),
        (
            {"prompt": PROMPT, "multi_prompt": [{"prompt": "a", "duration": 3}] * 21},
            ["body", "multi_prompt"],
        ),
        (
            {"prompt": PROMPT, "multi_prompt": [{"prompt": "a", "duration": 3}]},
            ["body", "multi_prompt"],
        ),
        (
            {"prompt": PROMPT, "duration": 8, "multi_prompt": [{"prompt": "a", "duration": 5}]},
            ["body", "multi_prompt"],
        ),
        ({"prompt": PROMPT, "multi_prompt": ["a"]}, ["body", "multi_prompt", 0]),
        (
            {"prompt": PROMPT, "multi_prompt": [{"prompt": "", "duration": 5}]},
            ["body", "multi_prompt", 0, "prompt"],
        ),
        (
            {"prompt": PROMPT, "multi_prompt": [{"prompt": "a", "duration": 2}]},
            ["body", "multi_prompt", 0, "duration"],
        ),
        (
            {"prompt": PROMPT, "multi_prompt": [{"prompt": "a"}]},
            ["body", "multi_prompt", 0, "duration"],
        ),
        (
            {"prompt": PROMPT, "multi_prompt": [{"prompt": "a", "duration": 5, "seed": 1}]},
            ["body", "multi_prompt", 0, "seed"],
        ),
        ({"prompt": PROMPT, "aspectRatio": "16:9"}, ["body", "aspectRatio"]),
    ],
)
async def test_invalid_inputs_are_422_naming_the_field(http, emulator, payload, loc) -> None:
    answer = await call(http, emulator, "POST", SUBMIT_PATH, body=payload)
    assert answer.status == 422
    assert answer.body["error_code"] == 422001
    assert loc in [item["loc"] for item in answer.body["detail"]]
    assert all(item["msg"] for item in answer.body["detail"])
    assert emulator.jobs == {}


async def test_a_body_that_is_not_json_is_422(http, emulator) -> None:
    answer = await call(http, emulator, "POST", SUBMIT_PATH, data=b"prompt=hello")
    assert answer.status == 422
    assert answer.body["detail"][0]["loc"] == ["body"]


async def test_a_full_valid_payload_is_accepted(http, emulator) -> None:
    payload = {
        "prompt": PROMPT,
        "negative_prompt": "blur",
        "duration": 8,
        "aspect_ratio": "9:16",
        "cfg_scale": 1,
        "sound": False,
        "shot_type": "customize",
        "multi_prompt": [{"prompt": "first", "duration": 3}, {"prompt": "second", "duration": 5}],
    }
    answer = await call(http, emulator, "POST", SUBMIT_PATH, body=payload)
    assert answer.status == 200
    assert emulator.job(answer.body["request_id"]).payload == payload


def test_validate_inputs_collects_every_problem() -> None:
    problems = validate_inputs({"duration": 99, "sound": "no"})
    assert [p["loc"] for p in problems] == [
        ["body", "prompt"],
        ["body", "duration"],
        ["body", "sound"],
    ]
    assert validate_inputs({"prompt": "ok", "multi_prompt": []}) == []
    assert validate_inputs([1, 2])[0]["loc"] == ["body"]


# ---------------------------------------------------------------------------- auth


@pytest.mark.parametrize("token", [None, "wrong-token"])
async def test_bad_or_missing_token_is_401001(http, emulator, token) -> None:
    rid = await submit_id(http, emulator)
    paths = [
        ("POST", SUBMIT_PATH),
        ("GET", f"/v1/requests/{rid}/status"),
        ("GET", f"/v1/requests/{rid}/result"),
        ("POST", f"/v1/requests/{rid}/cancel"),
    ]
    for method, path in paths:
        answer = await call(http, emulator, method, path, body={"prompt": PROMPT}, token=token)
        assert answer.status == 401
        assert answer.body["error_code"] == 401001
    assert len(emulator.jobs) == 1
    assert emulator.job(rid).status == "in_progress"


async def test_tokens_are_unique_per_emulator(clock) -> None:
    assert RunComfyEmulator(clock=clock).token != RunComfyEmulator(clock=clock).token
    assert RunComfyEmulator(clock=clock, token="fixed").token == "fixed"


# ---------------------------------------------------------------- lifecycle & workers


async def test_workers_and_queue_positions(http, emulator, clock) -> None:
    ids = [await submit_id(http, emulator) for _ in range(5)]
    states = [(await status(http, emulator, rid)).body for rid in ids]
    assert [s["status"] for s in states] == ["in_progress"] * 2 + ["in_queue"] * 3
    assert [s.get("queue_position") for s in states] == [None, None, 0, 1, 2]
    assert (emulator.running_count, emulator.queued_count) == (2, 3)

    clock.advance(60)
    states = [(await status(http, emulator, rid)).body for rid in ids]
    assert [s["status"] for s in states] == ["completed"] * 2 + ["in_progress"] * 2 + ["in_queue"]
    assert states[4]["queue_position"] == 0

    clock.advance(120)
    assert {(await status(http, emulator, rid)).body["status"] for rid in ids} == {"completed"}
    jobs = [emulator.job(rid) for rid in ids]
    t0 = jobs[0].submitted_at
    assert [job.started_at - t0 for job in jobs] == [0, 0, 60, 60, 120]
    assert [job.finished_at - t0 for job in jobs] == [60, 60, 120, 120, 180]


async def test_completions_between_requests_are_replayed_in_order(http, clock) -> None:
    times = iter([10.0, 30.0, 5.0, 5.0])
    async with RunComfyEmulator(
        clock=clock, workers=1, generation_time=lambda payload: next(times)
    ) as emulator:
        ids = [await submit_id(http, emulator) for _ in range(4)]
        clock.advance(1000)
        jobs = [emulator.job(rid) for rid in ids]
        t0 = jobs[0].submitted_at
        assert [(j.started_at - t0, j.finished_at - t0) for j in jobs] == [
            (0, 10),
            (10, 40),
            (40, 45),
            (45, 50),
        ]


async def test_default_generation_time_depends_on_duration(http, clock) -> None:
    async with RunComfyEmulator(clock=clock, workers=4) as emulator:
        short = emulator.job(await submit_id(http, emulator, duration=3))
        long = emulator.job(await submit_id(http, emulator, duration=15))
        default = emulator.job(await submit_id(http, emulator))
        assert short.generation_time < default.generation_time < long.generation_time


async def test_queue_delay_holds_each_job_in_the_queue_at_least_that_long(http, clock) -> None:
    delays = iter([30.0, 0.0, 10.0])
    async with RunComfyEmulator(
        clock=clock,
        workers=10,
        generation_time=lambda payload: 20.0,
        queue_delay=lambda payload: next(delays),
    ) as emulator:
        ids = [await submit_id(http, emulator) for _ in range(3)]
        states = [(await status(http, emulator, rid)).body for rid in ids]
        assert [s["status"] for s in states] == ["in_queue", "in_progress", "in_queue"]
        assert [s.get("queue_position") for s in states] == [0, None, 1]
        clock.advance(10)
        assert [emulator.job(rid).status for rid in ids] == [
            "in_queue",
            "in_progress",
            "in_progress",
        ]
        clock.advance(100)
        jobs = [emulator.job(rid) for rid in ids]
        t0 = jobs[0].submitted_at
        assert [(j.started_at - t0, j.finished_at - t0) for j in jobs] == [
            (30, 50),
            (0, 20),
            (10, 30),
        ]
        assert [j.queue_delay for j in jobs] == [30.0, 0.0, 10.0]


async def test_queue_delay_and_workers_both_hold_jobs(http, clock) -> None:
    """A job whose delay is over still waits for a free worker, first come first served."""
    delays = iter([0.0, 5.0, 1.0])
    async with RunComfyEmulator(
        clock=clock,
        workers=1,
        generation_time=lambda payload: 10.0,
        queue_delay=lambda payload: next(delays),
    ) as emulator:
        ids = [await submit_id(http, emulator) for _ in range(3)]
        clock.advance(1000)
        jobs = [emulator.job(rid) for rid in ids]
        t0 = jobs[0].submitted_at
        assert [(j.started_at - t0, j.finished_at - t0) for j in jobs] == [
            (0, 10),
            (20, 30),
            (10, 20),
        ]


async def test_a_job_cancelled_during_its_queue_delay_never_starts(http, clock) -> None:
    async with RunComfyEmulator(
        clock=clock, workers=2, queue_delay=lambda payload: 30.0
    ) as emulator:
        rid = await submit_id(http, emulator)
        assert (await cancel(http, emulator, rid)).body["outcome"] == "cancelled"
        clock.advance(1000)
        assert emulator.job(rid).started_at is None
        assert emulator.queued_count == 0


async def test_zero_workers_hold_jobs_until_workers_are_added(http, emulator, clock) -> None:
    emulator.set_workers(0)
    ids = [await submit_id(http, emulator) for _ in range(3)]
    clock.advance(1000)
    assert [emulator.job(rid).status for rid in ids] == ["in_queue"] * 3
    emulator.set_workers(3)
    assert [emulator.job(rid).status for rid in ids] == ["in_progress"] * 3


async def test_a_job_generating_can_be_finished_at_once(http, emulator, clock) -> None:
    emulator.set_workers(1)
    first, second = [await submit_id(http, emulator) for _ in range(2)]
    clock.advance(1)
    emulator.finish_generating(first)
    assert emulator.job(first).status == "completed"
    assert emulator.job(first).finished_at == clock.now()
    assert emulator.job(second).status == "in_progress", "the freed worker takes the next"
    with pytest.raises(ValueError, match="not generating"):
        emulator.finish_generating(first)


async def test_scripted_outcomes(http, emulator, clock) -> None:
    emulator.script_outcomes(JobOutcome.fail("the model refused the prompt"), JobOutcome.complete())
    failed, completed, default = [await submit_id(http, emulator) for _ in range(3)]
    clock.advance(200)
    body = (await result(http, emulator, failed)).body
    assert body["status"] == "failed"
    assert body["error"] == "the model refused the prompt"
    assert body["output"] is None
    assert body["cost"] == 0.0
    assert (await status(http, emulator, completed)).body["status"] == "completed"
    assert (await status(http, emulator, default)).body["status"] == "completed"


async def test_outcome_callable_and_sequence(http, clock) -> None:
    def by_prompt(payload: Any) -> JobOutcome:
        return JobOutcome.fail("nope") if "fail" in payload["prompt"] else JobOutcome.complete()

    async with RunComfyEmulator(clock=clock, outcome=by_prompt, workers=5) as emulator:
        bad = await submit_id(http, emulator, prompt="please fail")
        good = await submit_id(http, emulator, prompt="please work")
        clock.advance(500)
        assert (emulator.job(bad).status, emulator.job(good).status) == ("failed", "completed")
    async with RunComfyEmulator(
        clock=clock, outcome=[JobOutcome.fail("first")], workers=5
    ) as emulator:
        first = await submit_id(http, emulator)
        second = await submit_id(http, emulator)
        clock.advance(500)
        assert (emulator.job(first).status, emulator.job(second).status) == ("failed", "completed")


async def test_set_outcome_changes_a_running_job(http, emulator, clock) -> None:
    rid = await submit_id(http, emulator)
    emulator.set_outcome(rid, JobOutcome.fail("late failure"))
    clock.advance(60)
    assert emulator.job(rid).status == "failed"
    with pytest.raises(ValueError, match="already finished"):
        emulator.set_outcome(rid, JobOutcome.complete())


async def test_many_jobs_keep_exact_positions(http, clock) -> None:
    async with RunComfyEmulator(
        clock=clock, workers=3, generation_time=lambda payload: 10.0
    ) as emulator:
        ids = [await submit_id(http, emulator) for _ in range(300)]
        for victim in ids[100:200:2]:
            assert (await cancel(http, emulator, victim)).body["outcome"] == "cancelled"
        # 250 jobs were submitted before ids[250]: 3 are running and 50 were cancelled.
        assert (await status(http, emulator, ids[250])).body["queue_position"] == 197
        clock.advance(10 * 20)
        # 20 rounds of 3 finished and 3 more started: ids[0..62] have left the queue.
        assert (await status(http, emulator, ids[250])).body["queue_position"] == 137
        clock.advance(10_000)
        assert emulator.queued_count == 0
        finished = [job for job in emulator.jobs.values() if job.status == "completed"]
        assert len(finished) == 250


# -------------------------------------------------------------------------- cancel


async def test_cancel_while_queued(http, emulator, clock) -> None:
    emulator.set_workers(0)
    first, second, third = [await submit_id(http, emulator) for _ in range(3)]
    answer = await cancel(http, emulator, second)
    assert answer.body == {"status": "cancelled", "outcome": "cancelled"}
    assert (await status(http, emulator, third)).body["queue_position"] == 1
    assert (await cancel(http, emulator, second)).body["outcome"] == "cancelled"
    emulator.set_workers(2)
    clock.advance(1000)
    assert [emulator.job(rid).status for rid in (first, second, third)] == [
        "completed",
        "cancelled",
        "completed",
    ]
    assert emulator.job(second).started_at is None
    body = (await result(http, emulator, second)).body
    assert (body["status"], body["output"]) == ("cancelled", None)


async def test_cancel_in_progress_or_finished_is_not_cancellable(http, emulator, clock) -> None:
    rid = await submit_id(http, emulator)
    assert (await cancel(http, emulator, rid)).body == {
        "status": "in_progress",
        "outcome": "not_cancellable",
    }
    clock.advance(60)
    assert (await cancel(http, emulator, rid)).body == {
        "status": "completed",
        "outcome": "not_cancellable",
    }


# --------------------------------------------------------------------------- files


async def finished_video(http, emulator, clock, **fields: Any) -> str:
    rid = await submit_id(http, emulator, **fields)
    clock.advance(1000)
    return (await result(http, emulator, rid)).body["output"]["video"]


async def test_sample_is_a_real_small_mp4() -> None:
    kinds = [kind for kind, _ in mp4_boxes(SAMPLE_MP4)]
    assert kinds[0] == b"ftyp"
    assert {b"moov", b"mdat"} <= set(kinds)
    assert 1000 < len(SAMPLE_MP4) < 20_000


async def test_video_download_without_auth(http, emulator, clock) -> None:
    url = await finished_video(http, emulator, clock)
    async with http.get(url) as response:
        assert response.status == 200
        assert response.headers["Content-Type"] == "video/mp4"
        assert response.headers["Accept-Ranges"] == "bytes"
        assert await response.read() == SAMPLE_MP4


@pytest.mark.parametrize(
    ("header", "start", "stop"),
    [
        ("bytes=0-99", 0, 100),
        ("bytes=100-", 100, len(SAMPLE_MP4)),
        ("bytes=-50", len(SAMPLE_MP4) - 50, len(SAMPLE_MP4)),
        ("bytes=10-999999", 10, len(SAMPLE_MP4)),
    ],
)
async def test_range_requests(http, emulator, clock, header, start, stop) -> None:
    url = await finished_video(http, emulator, clock)
    async with http.get(url, headers={"Range": header}) as response:
        assert response.status == 206
        assert response.headers["Content-Range"] == f"bytes {start}-{stop - 1}/{len(SAMPLE_MP4)}"
        assert await response.read() == SAMPLE_MP4[start:stop]


async def test_unsatisfiable_range_is_416(http, emulator, clock) -> None:
    url = await finished_video(http, emulator, clock)
    async with http.get(url, headers={"Range": f"bytes={len(SAMPLE_MP4)}-"}) as response:
        assert response.status == 416
        assert response.headers["Content-Range"] == f"bytes */{len(SAMPLE_MP4)}"


async def test_head_gives_the_size(http, emulator, clock) -> None:
    url = await finished_video(http, emulator, clock)
    async with http.head(url) as response:
        assert response.status == 200
        assert int(response.headers["Content-Length"]) == len(SAMPLE_MP4)


async def test_no_file_before_completion(http, emulator) -> None:
    rid = await submit_id(http, emulator)
    async with http.get(emulator.output_url(rid)) as response:
        assert response.status == 404


async def test_large_video_is_streamed_with_a_valid_box_layout(http, emulator, clock) -> None:
    size = 20 * 1024 * 1024 + 123
    rid = await submit_id(http, emulator)
    emulator.set_outcome(rid, JobOutcome.complete(video_size=size))
    clock.advance(1000)
    received = bytearray()
    largest_chunk = 0
    async with http.get(emulator.output_url(rid)) as response:
        assert int(response.headers["Content-Length"]) == size
        async for chunk in response.content.iter_chunked(CHUNK_BYTES):
            largest_chunk = max(largest_chunk, len(chunk))
            if len(received) < 64 * 1024:
                received += chunk
            else:
                received += b"\0" * len(chunk)
    assert len(received) == size
    assert received.startswith(SAMPLE_MP4)
    assert mp4_boxes(bytes(received))[-1] == (b"free", size - len(SAMPLE_MP4))


async def test_hundred_megabyte_video_range_at_the_end(http, emulator, clock) -> None:
    size = 100 * 1024 * 1024
    emulator.video_size = size
    url = await finished_video(http, emulator, clock)
    async with http.head(url) as response:
        assert int(response.headers["Content-Length"]) == size
    async with http.get(url, headers={"Range": f"bytes={size - 10}-"}) as response:
        assert response.status == 206
        assert await response.read() == b"\0" * 10
    async with http.get(
        url, headers={"Range": f"bytes={len(SAMPLE_MP4)}-{len(SAMPLE_MP4) + 7}"}
    ) as response:
        assert await response.read() == struct.pack(">I4s", size - len(SAMPLE_MP4), b"free")


# ---------------------------------------------------------------------- fault knobs


async def test_rate_limit_with_retry_after_then_normal(http, emulator) -> None:
    emulator.rate_limit(Endpoint.SUBMIT, retry_after=3, times=2)
    for _ in range(2):
        answer = await submit(http, emulator)
        assert answer.status == 429
        assert answer.headers["Retry-After"] == "3"
    assert (await submit(http, emulator)).status == 200
    assert emulator.submit_count == 3
    assert len(emulator.jobs) == 1


async def test_rate_limit_with_http_date_or_without_header(http, emulator) -> None:
    when = email.utils.formatdate(emulator.clock.now() + 30, usegmt=True)
    emulator.rate_limit(Endpoint.SUBMIT, retry_after=when)
    emulator.rate_limit(Endpoint.SUBMIT, retry_after=None)
    assert (await submit(http, emulator)).headers["Retry-After"] == when
    answer = await submit(http, emulator)
    assert answer.status == 429
    assert "Retry-After" not in answer.headers


@pytest.mark.parametrize(
    ("http_status", "error_code"), [(500, 500001), (502, None), (503, 500001), (504, None)]
)
async def test_fail_knob(http, emulator, http_status, error_code) -> None:
    rid = await submit_id(http, emulator)
    emulator.fail(Endpoint.STATUS, http_status, error_code=error_code)
    answer = await status(http, emulator, rid)
    assert answer.status == http_status
    assert answer.body.get("error_code") == error_code
    assert answer.body["error_message"]
    assert (await status(http, emulator, rid)).status == 200


async def test_fail_knob_on_submit_creates_no_job(http, emulator) -> None:
    emulator.fail(Endpoint.SUBMIT, 503)
    assert (await submit(http, emulator)).status == 503
    assert emulator.jobs == {}


async def test_faults_are_consumed_in_order(http, emulator) -> None:
    rid = await submit_id(http, emulator)
    emulator.rate_limit(Endpoint.RESULT, retry_after=1, times=2)
    emulator.fail(Endpoint.RESULT, 502, error_code=None)
    assert emulator.faults_pending(Endpoint.RESULT) == 3
    codes = [(await result(http, emulator, rid)).status for _ in range(4)]
    assert codes == [429, 429, 502, 200]
    assert emulator.faults_pending(Endpoint.RESULT) == 0


async def test_faults_until_cleared(http, emulator) -> None:
    emulator.fail(Endpoint.SUBMIT, 500, times=None)
    assert emulator.faults_pending(Endpoint.SUBMIT) == -1
    assert [(await submit(http, emulator)).status for _ in range(3)] == [500] * 3
    emulator.clear_faults()
    assert (await submit(http, emulator)).status == 200


async def test_faults_only_hit_their_endpoint(http, emulator) -> None:
    emulator.fail(Endpoint.CANCEL, 500)
    rid = await submit_id(http, emulator)
    assert (await status(http, emulator, rid)).status == 200
    assert (await cancel(http, emulator, rid)).status == 500


async def test_slow_answers_trip_a_read_timeout_but_the_submit_is_processed(http, emulator) -> None:
    emulator.slow(Endpoint.SUBMIT, 1.0)
    timeout = aiohttp.ClientTimeout(sock_read=0.2)
    with pytest.raises(asyncio.TimeoutError):
        async with http.post(
            emulator.base_url + SUBMIT_PATH,
            json={"prompt": PROMPT},
            headers={"Authorization": f"Bearer {emulator.token}"},
            timeout=timeout,
        ) as response:
            await response.read()
    assert len(emulator.jobs) == 1
    assert emulator.submit_count == 1


async def test_slow_answer_arrives_when_waited_for(http, emulator) -> None:
    rid = await submit_id(http, emulator)
    emulator.slow(Endpoint.STATUS, 0.1)
    assert (await status(http, emulator, rid)).body["status"] == "in_progress"
    assert emulator.requests[-1].fault == "slow"


async def test_reset_before_processing(http, emulator) -> None:
    emulator.reset(Endpoint.SUBMIT)
    with pytest.raises(aiohttp.ClientOSError):
        await submit(http, emulator)
    assert emulator.jobs == {}
    assert emulator.submit_count == 1


async def test_reset_after_processing_leaves_the_job(http, emulator) -> None:
    emulator.reset(Endpoint.SUBMIT, after_processing=True)
    with pytest.raises(aiohttp.ClientOSError):
        await submit(http, emulator)
    assert len(emulator.jobs) == 1
    assert emulator.requests[-1].http_status is None


async def test_reset_after_processing_a_cancel(http, emulator) -> None:
    emulator.set_workers(0)
    rid = await submit_id(http, emulator)
    emulator.reset(Endpoint.CANCEL, after_processing=True)
    with pytest.raises(aiohttp.ClientOSError):
        await cancel(http, emulator, rid)
    assert emulator.job(rid).status == "cancelled"


async def test_non_json_body(http, emulator) -> None:
    emulator.non_json(Endpoint.SUBMIT)
    emulator.non_json(Endpoint.SUBMIT, http_status=502)
    first = await submit(http, emulator)
    assert (first.status, first.headers["Content-Type"].split(";")[0]) == (200, "text/html")
    assert isinstance(first.body, bytes)
    assert b"<html>" in first.body
    assert (await submit(http, emulator)).status == 502
    assert emulator.jobs == {}


async def test_error_code_in_a_200(http, emulator) -> None:
    rid = await submit_id(http, emulator)
    emulator.error_in_200(Endpoint.RESULT, error_code=404001, message="gone")
    answer = await result(http, emulator, rid)
    assert answer.status == 200
    assert answer.body == {"error_code": 404001, "error_message": "gone"}


async def test_expired_ids(http, emulator) -> None:
    kept, expired = await submit_id(http, emulator), await submit_id(http, emulator)
    emulator.expire(expired)
    assert (await status(http, emulator, expired)).body["error_code"] == 404001
    assert (await result(http, emulator, expired)).status == 404
    assert (await cancel(http, emulator, expired)).status == 404
    assert (await status(http, emulator, kept)).status == 200
    emulator.expire()
    assert (await status(http, emulator, kept)).status == 404
    emulator.unexpire()
    assert (await status(http, emulator, kept)).status == 200


@pytest.mark.parametrize("http_status", [402, 400, 200])
async def test_insufficient_balance(http, emulator, http_status) -> None:
    emulator.insufficient_balance(http_status=http_status)
    answer = await submit(http, emulator)
    assert answer.status == http_status
    assert answer.body["error_code"] == 400002
    assert emulator.jobs == {}


async def test_file_faults(http, emulator, clock) -> None:
    url = await finished_video(http, emulator, clock)
    emulator.fail(Endpoint.FILE, 404, error_code=None, message="expired")
    async with http.get(url) as response:
        assert response.status == 404
    emulator.reset(Endpoint.FILE, after_processing=True)
    with pytest.raises(aiohttp.ClientError):
        async with http.get(url) as response:
            await response.read()
    async with http.get(url) as response:
        assert await response.read() == SAMPLE_MP4


async def test_generic_add_fault(http, emulator) -> None:
    emulator.add_fault(Endpoint.SUBMIT, Fault("fail", http_status=418, message="teapot"), times=1)
    answer = await submit(http, emulator)
    assert (answer.status, answer.body) == (418, {"error_message": "teapot"})
    with pytest.raises(ValueError, match="times"):
        emulator.add_fault(Endpoint.SUBMIT, Fault("reset"), times=0)


# ------------------------------------------------------------------- introspection


async def test_request_log_and_counts(http, emulator, clock) -> None:
    rid = await submit_id(http, emulator)
    clock.advance(5)
    emulator.rate_limit(Endpoint.STATUS)
    await status(http, emulator, rid)
    await status(http, emulator, rid)
    await result(http, emulator, rid)
    records = emulator.requests
    assert [(r.method, r.endpoint, r.http_status, r.fault) for r in records] == [
        ("POST", Endpoint.SUBMIT, 200, None),
        ("GET", Endpoint.STATUS, 429, "rate_limit"),
        ("GET", Endpoint.STATUS, 200, None),
        ("GET", Endpoint.RESULT, 200, None),
    ]
    assert records[1].path == f"/v1/requests/{rid}/status"
    assert records[1].request_id == rid
    assert records[1].at - records[0].at == 5
    assert emulator.count(Endpoint.STATUS) == 2
    assert emulator.counts == {Endpoint.SUBMIT: 1, Endpoint.STATUS: 2, Endpoint.RESULT: 1}


async def test_start_and_close_are_idempotent(clock) -> None:
    emulator = RunComfyEmulator(clock=clock)
    await emulator.start()
    base = emulator.base_url
    await emulator.start()
    assert emulator.base_url == base
    assert base.startswith("http://127.0.0.1:")
    await emulator.close()
    await emulator.close()


async def test_default_clock_is_real_time() -> None:
    emulator = RunComfyEmulator()
    assert emulator.clock.monotonic() < 5
    assert isinstance(emulator.clock, ManualClock) is False


async def test_wait_for_requests(http, emulator) -> None:
    waiter = asyncio.create_task(emulator.wait_for_requests(Endpoint.SUBMIT, 2))
    await submit(http, emulator)
    await asyncio.sleep(0)
    assert not waiter.done()
    await submit(http, emulator)
    async with asyncio.timeout(2):
        await waiter
    async with asyncio.timeout(2):
        await emulator.wait_for_requests(Endpoint.SUBMIT, 1)


async def test_a_poll_is_answered_as_of_the_moment_it_was_recorded(
    http, emulator, clock, monkeypatch
) -> None:
    """Time that passes between recording a request and answering it (a busy machine)
    does not finish a job early: a poll recorded before the job's finish says it is still
    generating, so a benchmark's 'first poll that could see it' is always a poll at or
    after the finish."""
    rid = await submit_id(http, emulator)
    clock.advance(58)
    record = emulator.traffic.record

    def record_then_stall(kept: Any) -> Any:
        kept = record(kept)
        clock.advance(5)
        return kept

    monkeypatch.setattr(emulator.traffic, "record", record_then_stall)
    assert (await status(http, emulator, rid)).body["status"] == "in_progress"
    assert (await status(http, emulator, rid)).body["status"] == "completed"
    finished = emulator.job(rid).finished_at
    polls = [r.at for r in emulator.requests if r.request_id == rid]
    assert polls[0] < finished <= polls[1]
