"""The loop the bot process runs on (`bot.running.run_loop`)."""

from __future__ import annotations

import asyncio
import sys

import pytest

from bot.running import loop_factory, run_loop

uvloop = pytest.importorskip("uvloop")


def test_the_bot_runs_on_uvloop_where_it_is_installed() -> None:
    assert loop_factory() is uvloop.new_event_loop

    async def main() -> tuple[str, int]:
        return type(asyncio.get_running_loop()).__module__, 42

    module, value = run_loop(main())

    assert module.startswith("uvloop")
    assert value == 42


def test_without_uvloop_the_bot_runs_on_asyncios_own_loop(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "uvloop", None)

    async def main() -> type[asyncio.AbstractEventLoop]:
        return type(asyncio.get_running_loop())

    assert loop_factory() is None
    assert not run_loop(main()).__module__.startswith("uvloop")


def test_an_error_in_the_bot_comes_out_of_the_loop() -> None:
    async def main() -> None:
        raise LookupError("no such job")

    with pytest.raises(LookupError, match="no such job"):
        run_loop(main())
