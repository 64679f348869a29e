"""Benchmarks: the real bot as its own process against the fake Discord and the RunComfy
emulator on 127.0.0.1, on a scaled clock. `python -m bench.run` prints one table."""
