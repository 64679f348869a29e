"""Prompt sessions: a themed session in a channel, its entries, votes, recap and leaderboard,
without Discord (the Discord side is `bot.discord_ui.sessions`)."""
