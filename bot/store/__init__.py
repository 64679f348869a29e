"""Everything the bot keeps in its database: SQLite and PostgreSQL side by side, one
schema, migrations, job leases and the peers channel. The jobs core sees only its ports
(`bot.jobs.ports`); `open_storage` picks the backend DATABASE_URL names."""
