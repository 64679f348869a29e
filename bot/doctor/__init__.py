"""`python -m bot doctor`: is the set-up ready before members try it?

One line per check, ✓ or ✗ with what to do: the settings; the Discord token (the bot user
and its application); the privileged intents the bot needs; the commands registered; the
bot's permissions in every server's channels it is used in; RunComfy's answer to the
token; the database reachable and at this bot's migration; the video folder writable
with room; the health port free. Exit code 0 when every check passes, 1 otherwise
(`bot.exits`). It only reads: nothing is created, registered or migrated.
"""

from bot.doctor.command import main, run

__all__ = ["main", "run"]
