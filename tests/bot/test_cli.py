"""`python -m bot generate` end to end against the emulator, in-process and as a real process."""

from __future__ import annotations

import asyncio
import io
import os
import signal
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

from bot import cli
from bot.clock import ScaledClock
from bot.media.download import OutputFetchError
from bot.runcomfy.input_error import KlingInputError
from bot.runcomfy.request import KlingRequest
from testkit.runcomfy import (
    SAMPLE_MP4,
    SUBMIT_PATH,
    Endpoint,
    JobOutcome,
    RunComfyEmulator,
)

PROMPT = "a hot air balloon over a misty valley at sunrise"
REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Run:
    code: int
    out: str
    err: str

    @property
    def err_lines(self) -> list[str]:
        return self.err.splitlines()


def env_for(emulator: RunComfyEmulator, **extra: str) -> dict[str, str]:
    return {
        "RUNCOMFY_API_TOKEN": emulator.token,
        "RUNCOMFY_API_BASE": emulator.base_url,
        **extra,
    }


async def generate(
    emulator: RunComfyEmulator, *argv: str, env: Mapping[str, str] | None = None
) -> Run:
    out, err = io.StringIO(), io.StringIO()
    code = await cli.run(
        list(argv),
        env=env_for(emulator) if env is None else env,
        clock=emulator.clock,
        stdout=out,
        stderr=err,
    )
    return Run(code, out.getvalue(), err.getvalue())


def assert_one_error_line(run: Run) -> str:
    errors = [line for line in run.err_lines if line.startswith("error:")]
    assert len(errors) == 1, run.err
    assert run.err_lines[-1] == errors[0]
    assert "Traceback" not in run.err
    return errors[0]


async def occupy_the_only_worker(emulator: RunComfyEmulator) -> None:
    """Submit one job straight to the emulator so the CLI's job has to queue behind it."""
    emulator.set_workers(1)
    async with aiohttp.ClientSession() as session:
        answer = await session.post(
            emulator.base_url + SUBMIT_PATH,
            json={"prompt": "a job that keeps the worker busy"},
            headers={"Authorization": f"Bearer {emulator.token}"},
        )
        assert answer.status == 200


async def test_success_saves_the_emulators_mp4(emulator: RunComfyEmulator, tmp_path: Path) -> None:
    await occupy_the_only_worker(emulator)
    destination = tmp_path / "clip.mp4"
    run = await generate(
        emulator,
        PROMPT,
        "--duration",
        "5",
        "--aspect-ratio",
        "9:16",
        "--no-sound",
        "--cfg-scale",
        "0.7",
        "--negative-prompt",
        "text, watermark",
        "--out",
        str(destination),
    )
    assert run.code == 0, run.err
    assert destination.read_bytes() == SAMPLE_MP4
    assert run.out == f"Saved {destination} ({len(SAMPLE_MP4):,} bytes). Cost: $0.42\n"
    assert "Queued at RunComfy (queue position 0)" in run.err
    assert "Generating" in run.err
    assert "elapsed" in run.err
    job = list(emulator.jobs.values())[-1]
    assert job.payload == {
        "prompt": PROMPT,
        "negative_prompt": "text, watermark",
        "duration": 5,
        "aspect_ratio": "9:16",
        "cfg_scale": 0.7,
        "sound": False,
    }
    assert emulator.submit_count == 2


async def test_multi_shot_and_shot_type(emulator: RunComfyEmulator, tmp_path: Path) -> None:
    run = await generate(
        emulator,
        PROMPT,
        "--duration",
        "8",
        "--shot-type",
        "customize",
        "--shot",
        "3",
        "the balloon rises",
        "--shot",
        "5",
        "the valley below",
        "--out",
        str(tmp_path / "v.mp4"),
    )
    assert run.code == 0, run.err
    payload = next(iter(emulator.jobs.values())).payload
    assert payload["shot_type"] == "customize"
    assert payload["multi_prompt"] == [
        {"prompt": "the balloon rises", "duration": 3},
        {"prompt": "the valley below", "duration": 5},
    ]


@pytest.mark.parametrize(
    ("argv", "fields"),
    [
        (["--duration", "20"], {"duration": 20}),
        (["--duration", "five"], {"duration": "five"}),
        (["--aspect-ratio", "4:3"], {"aspect_ratio": "4:3"}),
        (["--cfg-scale", "1.5"], {"cfg_scale": 1.5}),
        (["--cfg-scale", "nan"], {"cfg_scale": float("nan")}),
        (["--shot-type", "auto"], {"shot_type": "auto"}),
        (
            ["--duration", "8", "--shot", "3", "a", "--shot", "3", "b"],
            {
                "duration": 8,
                "multi_prompt": [{"prompt": "a", "duration": 3}, {"prompt": "b", "duration": 3}],
            },
        ),
    ],
)
async def test_invalid_options_exit_2_with_the_request_models_message(
    emulator: RunComfyEmulator, tmp_path: Path, argv: list[str], fields: dict[str, object]
) -> None:
    with pytest.raises(KlingInputError) as expected:
        KlingRequest.parse(prompt=PROMPT, **fields)
    run = await generate(emulator, PROMPT, *argv, "--out", str(tmp_path / "v.mp4"))
    assert run.code == 2
    assert run.err == f"error: {expected.value}\n"
    assert emulator.requests == []


async def test_the_duration_message_reads_exactly(
    emulator: RunComfyEmulator, tmp_path: Path
) -> None:
    run = await generate(emulator, PROMPT, "--duration", "20", "--out", str(tmp_path / "v.mp4"))
    assert run.err == (
        "error: `duration` must be a whole number of seconds from 3 to 15. You gave 20.\n"
    )


async def test_empty_prompt_exit_2(emulator: RunComfyEmulator, tmp_path: Path) -> None:
    run = await generate(emulator, "   ", "--out", str(tmp_path / "v.mp4"))
    assert run.code == 2
    assert run.err.startswith("error: `prompt` must be text")


async def test_argparse_errors_exit_2(
    emulator: RunComfyEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (await generate(emulator, PROMPT, "--bogus")).code == 2
    assert (await generate(emulator)).code == 2
    assert (await generate(emulator, PROMPT, "--poll-interval", "0")).code == 2
    assert "usage:" in capsys.readouterr().err
    assert emulator.requests == []


async def test_help_documents_every_option(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        cli.build_parser().parse_args(["--help"])
    assert exit_.value.code == 0
    text = capsys.readouterr().out
    for flag in (
        "--negative-prompt",
        "--duration",
        "--aspect-ratio",
        "--cfg-scale",
        "--sound, --no-sound",
        "--shot-type",
        "--shot SECONDS PROMPT",
        "--out",
        "--poll-interval",
        "default clip.mp4",
    ):
        assert flag in text


async def test_a_failed_job_exits_1_with_one_line(
    emulator: RunComfyEmulator, tmp_path: Path
) -> None:
    emulator.script_outcomes(JobOutcome.fail("the prompt was flagged by moderation"))
    destination = tmp_path / "clip.mp4"
    run = await generate(emulator, PROMPT, "--out", str(destination))
    assert run.code == 1
    line = assert_one_error_line(run)
    assert line == (
        "error: RunComfy could not generate this video: the prompt was flagged by moderation"
    )
    assert run.out == ""
    assert not destination.exists()


async def test_a_bad_token_exits_2_naming_the_token_and_the_host(
    emulator: RunComfyEmulator, tmp_path: Path
) -> None:
    """A refused token is a setting to fix: exit 2, as the bot exits for a refused
    DISCORD_TOKEN."""
    env = env_for(emulator, RUNCOMFY_API_TOKEN="not-the-right-token")
    run = await generate(emulator, PROMPT, "--out", str(tmp_path / "v.mp4"), env=env)
    assert run.code == 2
    assert len(run.err_lines) == 1
    assert run.err_lines[0].startswith("error: RunComfy at 127.0.0.1:")
    assert "RUNCOMFY_API_TOKEN" in run.err
    assert "not-the-right-token" not in run.err
    assert emulator.submit_count == 1
    assert emulator.jobs == {}


async def test_a_missing_token_is_a_config_error(
    emulator: RunComfyEmulator, tmp_path: Path
) -> None:
    """Exit 2, as the bot exits for a missing setting."""
    env = {"RUNCOMFY_API_BASE": emulator.base_url}
    run = await generate(emulator, PROMPT, "--out", str(tmp_path / "v.mp4"), env=env)
    assert run.code == 2
    assert run.err_lines == [
        "error: RUNCOMFY_API_TOKEN is not set. Put your RunComfy API token in .env "
        "(see .env.example)."
    ]
    assert emulator.requests == []


async def test_insufficient_balance(emulator: RunComfyEmulator, tmp_path: Path) -> None:
    emulator.insufficient_balance()
    run = await generate(emulator, PROMPT, "--out", str(tmp_path / "v.mp4"))
    assert run.code == 1
    assert len(run.err_lines) == 1
    assert "out of credit" in run.err


async def test_an_unknown_submit_outcome_is_not_retried(
    emulator: RunComfyEmulator, tmp_path: Path
) -> None:
    emulator.reset(Endpoint.SUBMIT, after_processing=True)
    run = await generate(emulator, PROMPT, "--out", str(tmp_path / "v.mp4"))
    assert run.code == 1
    assert "not sent again" in assert_one_error_line(run)
    assert emulator.submit_count == 1


async def test_a_video_over_the_download_cap(emulator: RunComfyEmulator, tmp_path: Path) -> None:
    emulator.video_size = 2 * 1024 * 1024
    env = env_for(emulator, MAX_DOWNLOAD_MB="1")
    run = await generate(emulator, PROMPT, "--out", str(tmp_path / "v.mp4"), env=env)
    assert run.code == 1
    line = assert_one_error_line(run)
    assert "larger than the 1.0 MB" in line
    [job] = emulator.jobs.values()
    assert f"Request id: {job.request_id}" in line, "the paid video can be recovered"
    assert emulator.output_url(job.request_id) in line
    assert os.listdir(tmp_path) == []


async def test_the_job_deadline(emulator: RunComfyEmulator, tmp_path: Path) -> None:
    emulator.set_workers(0)
    env = env_for(emulator, JOB_DEADLINE_MINUTES="1")
    run = await generate(emulator, PROMPT, "--out", str(tmp_path / "v.mp4"), env=env)
    assert run.code == 1
    assert "did not finish within 1:00" in assert_one_error_line(run)


async def test_transient_errors_while_polling_are_ridden_out(
    emulator: RunComfyEmulator, tmp_path: Path
) -> None:
    emulator.fail(Endpoint.STATUS, 503, times=2)
    emulator.rate_limit(Endpoint.RESULT, retry_after=3)
    run = await generate(emulator, PROMPT, "--out", str(tmp_path / "v.mp4"))
    assert run.code == 0, run.err
    assert (tmp_path / "v.mp4").read_bytes() == SAMPLE_MP4


async def test_interrupt_while_queued_cancels_the_job(
    emulator: RunComfyEmulator, tmp_path: Path
) -> None:
    emulator.set_workers(0)
    out, err = io.StringIO(), io.StringIO()
    clock = ScaledClock(1000)
    task = asyncio.create_task(
        cli.run(
            [PROMPT, "--out", str(tmp_path / "v.mp4")],
            env=env_for(emulator),
            clock=clock,
            stdout=out,
            stderr=err,
        )
    )
    async with asyncio.timeout(5):
        await emulator.wait_for_requests(Endpoint.STATUS, 2)
    task.cancel()
    assert await task == 130
    (job,) = emulator.jobs.values()
    assert job.status == "cancelled"
    assert f"Cancelled job {job.request_id}; nothing is charged." in err.getvalue()


async def test_interrupt_while_generating_says_it_will_be_charged(tmp_path: Path) -> None:
    scaled = ScaledClock(1000)
    async with RunComfyEmulator(clock=scaled, generation_time=lambda p: 10_000.0) as emulator:
        err = io.StringIO()
        task = asyncio.create_task(
            cli.run(
                [PROMPT, "--out", str(tmp_path / "v.mp4")],
                env=env_for(emulator),
                clock=scaled,
                stdout=io.StringIO(),
                stderr=err,
            )
        )
        async with asyncio.timeout(5):
            await emulator.wait_for_requests(Endpoint.RESULT, 1)
        task.cancel()
        assert await task == 130
        assert "cannot be cancelled and will be charged" in err.getvalue()
        assert emulator.count(Endpoint.CANCEL) == 0


# ------------------------------------------------------------------- real process


def subprocess_env(emulator: RunComfyEmulator) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("RUNCOMFY_", "JOB_", "POLL_", "MAX_DOWNLOAD"))
    }
    env.update(env_for(emulator))
    env["PYTHONPATH"] = str(REPO_ROOT)
    return env


async def test_real_process_generates_a_video(tmp_path: Path) -> None:
    clock = ScaledClock(60)
    async with RunComfyEmulator(clock=clock, generation_time=lambda p: 60.0) as emulator:
        destination = tmp_path / "clip.mp4"
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "generate",
            PROMPT,
            "--duration",
            "5",
            "--aspect-ratio",
            "9:16",
            "--out",
            str(destination),
            "--poll-interval",
            "0.2",
            cwd=tmp_path,
            env=subprocess_env(emulator),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        async with asyncio.timeout(30):
            stdout, stderr = await process.communicate()
        assert process.returncode == 0, stderr.decode()
        assert destination.read_bytes() == SAMPLE_MP4
        assert stdout.decode().startswith(f"Saved {destination}")
        assert "Cost: $0.63" in stdout.decode()
        assert "Generating" in stderr.decode()
        assert emulator.submit_count == 1


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def ctrl_c_as_in_a_terminal() -> None:
    """A test run started in the background inherits SIGINT ignored, and a child would
    too (Python then raises no KeyboardInterrupt): the child gets it as a terminal has it."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


async def test_real_process_ctrl_c_while_queued_cancels(tmp_path: Path) -> None:
    clock = ScaledClock(60)
    async with RunComfyEmulator(clock=clock, workers=0) as emulator:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "generate",
            PROMPT,
            "--out",
            str(tmp_path / "clip.mp4"),
            "--poll-interval",
            "0.2",
            cwd=tmp_path,
            env=subprocess_env(emulator),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            preexec_fn=ctrl_c_as_in_a_terminal,
        )
        assert process.stderr is not None
        seen = b""
        try:
            async with asyncio.timeout(60):
                while b"Queued at RunComfy" not in seen:
                    line = await process.stderr.readline()
                    assert line, seen.decode()
                    seen += line
                process.send_signal(signal.SIGINT)
                rest, _ = await asyncio.gather(process.stderr.read(), process.wait())
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
        text = (seen + rest).decode()
        assert process.returncode == 130, text
        assert "Cancelled job" in text
        assert "Traceback" not in text
        (job,) = emulator.jobs.values()
        assert job.status == "cancelled"


@pytest.mark.parametrize(
    ("where", "says"),
    [
        ("missing/v.mp4", "does not exist"),
        (".", "is a folder"),
        ("a-file/v.mp4", "is not a folder"),
    ],
)
async def test_a_bad_out_is_refused_before_anything_is_sent(
    emulator: RunComfyEmulator, tmp_path: Path, where: str, says: str
) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    out = tmp_path / where
    run = await generate(emulator, PROMPT, "--out", str(out))
    assert run.code == 2
    line = assert_one_error_line(run)
    assert says in line
    assert "Nothing was sent or charged." in line
    assert emulator.submit_count == 0
    assert sorted(os.listdir(tmp_path)) == ["a-file"]


async def test_an_unwritable_folder_is_refused_before_anything_is_sent(
    emulator: RunComfyEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Permission bits do not stop root, so the check writes a file; a refused write is
    simulated here (a read-only mount, a full disk, a folder root may not write)."""

    def refuse(*args: object, **kwargs: object) -> tuple[int, str]:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(cli.tempfile, "mkstemp", refuse)
    run = await generate(emulator, PROMPT, "--out", str(tmp_path / "v.mp4"))
    assert run.code == 2
    assert "cannot write in the folder" in assert_one_error_line(run)
    assert "Permission denied" in run.err
    assert emulator.submit_count == 0


async def test_the_write_check_leaves_nothing_behind(
    emulator: RunComfyEmulator, tmp_path: Path
) -> None:
    assert cli.out_problem(tmp_path / "v.mp4") is None
    assert os.listdir(tmp_path) == []


async def test_a_paid_video_that_cannot_be_written_names_its_request_and_link(
    emulator: RunComfyEmulator, tmp_path: Path
) -> None:
    """The write fails after the job was paid (here: a folder sits where the partial file
    goes, as a full disk or a vanished folder would fail it): no traceback, exit 1, and
    what the operator needs to fetch the video by hand."""
    destination = tmp_path / "v.mp4"
    (tmp_path / "v.mp4.part").mkdir()
    run = await generate(emulator, PROMPT, "--out", str(destination))
    assert run.code == 1
    line = assert_one_error_line(run)
    [job] = emulator.jobs.values()
    assert f"could not be saved to {destination}" in line
    assert f"Request id: {job.request_id}" in line
    assert emulator.output_url(job.request_id) in line
    assert "Is a directory" in line
    assert emulator.submit_count == 1


async def test_a_failed_download_names_its_request_and_link(
    emulator: RunComfyEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def host_error(*args: object, **kwargs: object) -> int:
        raise OutputFetchError("The video host answered with HTTP error 503.")

    monkeypatch.setattr(cli.OutputFetcher, "fetch", host_error)
    run = await generate(emulator, PROMPT, "--out", str(tmp_path / "v.mp4"))
    assert run.code == 1
    line = assert_one_error_line(run)
    [job] = emulator.jobs.values()
    assert "HTTP error 503" in line
    assert f"Request id: {job.request_id}" in line
    assert emulator.output_url(job.request_id) in line
