"""Project-wide rules: ruff clean, strict types, nothing reaches outside the repository, and
the jobs core depends on no settings, store or driver."""

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


def test_the_jobs_core_loads_no_settings_store_driver_or_discord() -> None:
    """bot/jobs reaches its database through its ports only (bot.jobs.ports): importing
    every module of it, the tracker first, loads neither the settings, nor the store, nor
    a database driver, nor discord.py."""
    code = (
        "import importlib, pkgutil, sys\n"
        "import bot.jobs, bot.jobs.tracker\n"
        "for module in pkgutil.iter_modules(bot.jobs.__path__):\n"
        "    importlib.import_module(f'bot.jobs.{module.name}')\n"
        "print('\\n'.join(sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    loaded = set(result.stdout.split())
    assert {"bot.jobs.tracker", "bot.jobs.ports", "bot.jobs.model"} <= loaded
    forbidden = ("bot.config", "bot.store", "asyncpg", "sqlite3", "_sqlite3", "discord")
    assert sorted(name for name in loaded if _under(name, forbidden)) == []


def _under(module: str, packages: tuple[str, ...]) -> bool:
    return any(module == package or module.startswith(f"{package}.") for package in packages)
