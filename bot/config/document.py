"""`.env.example` and `docs/configuration.md`, written from the table of settings.

Run `python -m bot.config.document` after changing `bot/config/table.py`; a test fails
while either file differs from what the table renders.
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

from bot.config.entries import EnvSetting, Required, Section
from bot.config.table import SECTIONS

ROOT = Path(__file__).resolve().parents[2]
COMMAND = "python -m bot.config.document"
WIDTH = 92

ENV_EXAMPLE_INTRO = f"""\
# Copy to .env and fill in the two tokens. Everything else has a sensible default.
# Written from bot/config/table.py by `{COMMAND}`:
# change the table, not this file.
"""

CONFIGURATION_INTRO = f"""\
# Configuration

The bot reads its settings from the environment, or from `.env` in its working directory
(copy `.env.example`, which lists them all with comments). Every setting is checked at
start-up: a missing or invalid one stops the bot with one line naming the setting and what
it must be. Only the two tokens are required; everything else has a default.

The settings under *Defaults for every server* are what a server gets until someone with
Manage Server changes them with `/video settings`.

This page is written from the table in `bot/config/table.py` by
`{COMMAND}`: change the table, then run the command.
"""


def _comment(text: str) -> list[str]:
    return textwrap.wrap(text, WIDTH - 2, initial_indent="# ", subsequent_indent="# ")


def env_example(sections: tuple[Section, ...] = SECTIONS) -> str:
    lines = [ENV_EXAMPLE_INTRO.rstrip("\n")]
    for section in sections:
        heading = f"# --- {section.title} "
        lines += ["", heading + "-" * max(3, WIDTH - len(heading))]
        for setting in section.settings:
            lines += _comment(setting.does)
            lines += _comment(f"Allowed: {setting.allowed}.")
            lines.append(f"{setting.name}={setting.shown_default}")
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _default_cell(setting: EnvSetting[object, object]) -> str:
    if isinstance(setting.default, Required):
        return "required"
    shown = setting.shown_default
    return f"`{shown}`" if shown else "empty"


def configuration(sections: tuple[Section, ...] = SECTIONS) -> str:
    lines = [CONFIGURATION_INTRO.rstrip("\n")]
    for section in sections:
        lines += ["", f"## {section.title}", ""]
        lines += ["| Setting | Default | Allowed | What it does |", "|---|---|---|---|"]
        lines += [
            f"| `{setting.name}` | {_default_cell(setting)} | {_cell(setting.allowed)} "
            f"| {_cell(setting.does)} |"
            for setting in section.settings
        ]
    return "\n".join(lines) + "\n"


def rendered() -> dict[Path, str]:
    """Each file the table writes (relative to the repository), with its text."""
    return {
        Path(".env.example"): env_example(),
        Path("docs/configuration.md"): configuration(),
    }


def main() -> int:
    for path, text in rendered().items():
        target = ROOT / path
        if target.exists() and target.read_text(encoding="utf-8") == text:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
