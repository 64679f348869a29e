"""The autouse "no errors logged" fixtures really fail a test whose body logs an ERROR.

They run in a child pytest (the fixture must wrap a whole test's phases to be exercised), with a
WARNING-only test beside it so a failure cannot come from anything else."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]

GUARDS = {
    "e2e": ("tests.e2e.conftest", "no_errors_logged", "bot.anything"),
    "fake": ("tests.testkit.discord.conftest", "discord_py_logged_no_errors", "discord.client"),
}

TESTS = """
import logging

def test_logs_an_error():
    logging.getLogger("{logger}").error("boom during the test body")

def test_logs_a_warning():
    logging.getLogger("{logger}").warning("only a warning")
"""


@pytest.mark.parametrize("guard", sorted(GUARDS))
def test_an_error_logged_by_the_test_body_fails_the_test(tmp_path: Path, guard: str) -> None:
    module, fixture, logger = GUARDS[guard]
    (tmp_path / "conftest.py").write_text(f"from {module} import {fixture}  # noqa: F401\n")
    (tmp_path / "test_guard.py").write_text(TESTS.format(logger=logger))
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rf", str(tmp_path)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    summary = run.stdout.strip().splitlines()[-1]
    assert "1 error" in summary, run.stdout + run.stderr
    assert "ERROR at teardown of test_logs_an_error" in run.stdout
    assert "test_logs_a_warning" not in run.stdout
    assert "boom during the test body" in run.stdout
