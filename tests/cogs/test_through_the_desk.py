"""The extensions reach the jobs only through the job desk: no cog touches the tracker or
the status board itself, so every command and button follows the desk's one set of rules."""

from __future__ import annotations

import ast
from pathlib import Path

COGS = Path(__file__).resolve().parents[2] / "cogs"
BEHIND_THE_DESK = frozenset({"tracker", "board"})


def reaches_behind_the_desk(source: str) -> list[str]:
    """`bot.tracker`, `self.desk.board`, `getattr(bot, "tracker")`: each as written."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and node.attr in BEHIND_THE_DESK:
            found.append(ast.unparse(node))
        elif isinstance(node, ast.Constant) and node.value in BEHIND_THE_DESK:
            found.append(repr(node.value))
    return found


def test_no_cog_touches_the_tracker_or_the_board() -> None:
    cogs = sorted(COGS.glob("*.py"))
    assert {path.name for path in cogs} >= {"video.py", "settings.py"}
    reached = {path.name: reaches_behind_the_desk(path.read_text()) for path in cogs}
    assert {name: found for name, found in reached.items() if found} == {}


def test_the_check_sees_every_way_past_the_desk() -> None:
    source = (
        "jobs = self.bot.tracker.open_jobs(1)\n"
        "embed = self.desk.board.render(job)\n"
        "tracker = getattr(self.bot, 'tracker')\n"
        "desk = self.bot.desk\n"
    )
    assert sorted(reaches_behind_the_desk(source)) == [
        "'tracker'",
        "self.bot.tracker",
        "self.desk.board",
    ]
