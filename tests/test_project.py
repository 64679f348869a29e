"""Project-wide rules: ruff clean, and nothing reaches outside the repository."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[1]


def ruff(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ruff", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_ruff_check_is_clean() -> None:
    result = ruff("check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_is_clean() -> None:
    result = ruff("format", "--check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_types_are_checked_strictly() -> None:
    """mypy --strict over bot/ and cogs/ (settings in pyproject.toml)."""
    result = subprocess.run(
        [sys.executable, "-m", "mypy"], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_code_refers_outside_the_repository() -> None:
    outside = "../" + "shared"
    offenders = [
        path.relative_to(ROOT)
        for folder in ("bot", "cogs", "tests", "bench", "testkit")
        for path in (ROOT / folder).rglob("*.py")
        if outside in path.read_text(encoding="utf-8")
    ]
    assert offenders == []
