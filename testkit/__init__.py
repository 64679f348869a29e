"""Test and benchmark support, imported by `tests/` and `bench/`, never by the product:
the fake Discord (`discord`), the RunComfy emulator (`runcomfy`), a throwaway PostgreSQL
server (`postgres`), waiting (`waiting`), the real bot as a child process (`bot_process`,
`process`, `procstats`), the seeded community load (`load`) and percentiles (`stats`),
what the bot left behind (`evidence`), and several bot processes as one sharded bot
(`cluster`) with the scenario that kills one of them (`takeover`)."""
