"""Project-wide rules: ruff clean, strict types, nothing reaches outside the repository, no
module over 450 lines, and imports point one way: the jobs core depends on no settings,
store or driver; the product never imports test code; testkit never imports the tests or
the benchmarks; and only the benchmarks' own tests import the benchmarks."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterable
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
    """mypy --strict over bot/, cogs/, testkit/ and bench/ (settings in pyproject.toml)."""
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


def test_the_sessions_core_loads_no_settings_store_driver_or_discord() -> None:
    """bot/sessions is the rules and the clockwork of prompt sessions: its store and its
    Discord side are reached through its ports (bot.sessions.ports) only."""
    code = (
        "import importlib, pkgutil, sys\n"
        "import bot.sessions\n"
        "for module in pkgutil.iter_modules(bot.sessions.__path__):\n"
        "    importlib.import_module(f'bot.sessions.{module.name}')\n"
        "print('\\n'.join(sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    loaded = set(result.stdout.split())
    assert {"bot.sessions.service", "bot.sessions.ports", "bot.sessions.timer"} <= loaded
    forbidden = ("bot.config", "bot.store", "bot.discord_ui", "asyncpg", "sqlite3", "discord")
    assert sorted(name for name in loaded if _under(name, forbidden)) == []


def _under(module: str, packages: tuple[str, ...]) -> bool:
    return any(module == package or module.startswith(f"{package}.") for package in packages)


def imported_packages(path: Path) -> set[str]:
    """The top-level packages a module imports (absolute imports only)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


def importers(folders: Iterable[str], forbidden: set[str], *, skip: str | None = None) -> list[str]:
    """Modules under `folders` (but not under `skip`) that import any of `forbidden`."""
    return sorted(
        f"{path.relative_to(ROOT)}: {sorted(imported_packages(path) & forbidden)}"
        for folder in folders
        for path in (ROOT / folder).rglob("*.py")
        if not (skip and path.is_relative_to(ROOT / skip)) and imported_packages(path) & forbidden
    )


def test_the_reader_of_imports_sees_absolute_imports_only(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("import bench.run as r, os\nfrom testkit.discord import y\nfrom . import z\n")
    assert imported_packages(module) == {"bench", "os", "testkit"}
    assert importers(["tests/bench"], {"bench"}), "the benchmarks' tests do import bench"


def test_only_the_benchmarks_own_tests_import_the_benchmarks() -> None:
    assert importers(["tests"], {"bench"}, skip="tests/bench") == []


def test_the_product_imports_no_test_or_benchmark_code() -> None:
    assert importers(["bot", "cogs"], {"testkit", "tests", "bench"}) == []


def test_testkit_imports_neither_the_tests_nor_the_benchmarks() -> None:
    assert importers(["testkit"], {"tests", "bench"}) == []


def test_no_module_of_the_product_or_testkit_is_over_450_lines() -> None:
    long = {
        str(path.relative_to(ROOT)): lines
        for folder in ("bot", "cogs", "testkit")
        for path in (ROOT / folder).rglob("*.py")
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > 450
    }
    assert long == {}
