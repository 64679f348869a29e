"""Running the bot until a signal stops it: SIGTERM (service managers, `docker stop`) and
SIGINT (Ctrl-C) both stop it cleanly.

The handlers live on the running event loop, so a signal never interrupts the loop in
the middle of a write: it only asks the bot to stop (`VideoBot.request_stop`), which
stops taking new work, lets the work under way finish within STOP_GRACE_SECONDS,
hands its jobs back and closes. A second signal cuts the grace short. A signal before
the bot is set up (still connecting to its database, say) interrupts the start-up
instead, closing whatever it opened. `python -m bot` and the bot-as-a-process test
tool both run the bot through `serve`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable

from bot.app import VideoBot

log = logging.getLogger(__name__)

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


async def serve(bot: VideoBot, token: str) -> None:
    """Log in and run until closed; returns normally after a stop signal."""
    loop = asyncio.get_running_loop()
    async with bot:
        starting = asyncio.create_task(bot.start(token), name="bot-start")
        remove = _on_stop_signals(loop, lambda name: _stop(bot, starting, name))
        try:
            await starting
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is None or current.cancelling() == 0:
                log.info("stopped during start-up")
            else:
                raise
        finally:
            remove()


def _stop(bot: VideoBot, starting: asyncio.Task[None], name: str) -> None:
    if bot.set_up:
        bot.request_stop(name)
    elif not starting.done():
        log.info("%s during start-up: stopping", name)
        starting.cancel()


def _on_stop_signals(
    loop: asyncio.AbstractEventLoop, handler: Callable[[str], None]
) -> Callable[[], None]:
    """Install `handler(signal name)` for each stop signal; returns how to remove them.
    Where the loop cannot take signal handlers (Windows), Ctrl-C stays a
    KeyboardInterrupt, as before."""
    installed: list[signal.Signals] = []
    for signum in STOP_SIGNALS:
        try:
            loop.add_signal_handler(signum, handler, signum.name)
        except (NotImplementedError, RuntimeError):
            continue
        installed.append(signum)

    def remove() -> None:
        for signum in installed:
            with contextlib.suppress(RuntimeError, ValueError):
                loop.remove_signal_handler(signum)

    return remove
