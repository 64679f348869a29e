"""The Discord helpers the extensions in `cogs/` share: messages, views, pacing, rules."""
