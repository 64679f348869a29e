"""Prompt sessions on Discord: the session card and its gallery thread, entries with a
Vote button, the recap, and the `/session` commands' desk (the rules are `bot.sessions`)."""
