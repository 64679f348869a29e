"""A stand-in fit worker that starts, writes a partial file, and then hangs: for testing
how `VideoFitter` kills, cleans up and queues. Writes its pid beside the destination."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

if __name__ == "__main__":
    destination = Path(json.loads(sys.stdin.read())["destination"])
    Path(f"{destination}.partial").write_bytes(b"half a video")
    Path(f"{destination}.pid").write_text(str(os.getpid()))
    progress = {"event": "progress", "stage": "started", "attempt": 1, "fraction": 0.0}
    print(json.dumps(progress), flush=True)
    time.sleep(60)
