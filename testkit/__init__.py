"""Test and benchmark support: the fake Discord, the RunComfy emulator, clocks, waiting
and process helpers. Imported by `tests/` and `bench/`, never by the product."""
