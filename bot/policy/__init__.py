"""A server's own policy on what gets made, free of Discord and of the database: blocked
terms and how a prompt is matched against them (`terms`), role tiers (`tiers`), member
blocks and strikes (`members`), and the per-server cache that every process keeps fresh
(`book`)."""
