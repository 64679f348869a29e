"""The bench's bot process (`testkit.bot_process`) with at most 1,024 open files, soft and
hard, as on a host whose default limit is 1,024: the bot cannot raise it, so only its own
care keeps the health port from taking the descriptors Discord and RunComfy need."""

from __future__ import annotations

import resource
import sys

from testkit.bot_process import main

OPEN_FILES = 1024

if __name__ == "__main__":
    resource.setrlimit(resource.RLIMIT_NOFILE, (OPEN_FILES, OPEN_FILES))
    sys.exit(main())
