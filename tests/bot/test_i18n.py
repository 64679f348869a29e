"""The catalogs: complete in both languages, the same placeholders, every key the code
uses present, numbers formatted for the language, and no sentence bypassing them."""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import discord
import pytest
from discord import app_commands
from discord.ext import commands
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.app import extensions
from bot.discord_ui.command_texts import CatalogTranslator, command_texts
from bot.discord_ui.edit_form import EditRule
from bot.discord_ui.multishot import MultishotOptions, ShotRule, multishot_request
from bot.i18n import (
    FALLBACK,
    Catalog,
    available_languages,
    catalog_path,
    languages,
    placeholders,
    read_catalog,
    texts,
)
from bot.jobs.model import Failure, JobState
from bot.jobs.ports import NoticeProblem
from bot.jobs.usage import DailySecondsExceeded
from bot.runcomfy.errors import ErrorKind
from bot.runcomfy.given import GivenKind, number_as_given
from bot.runcomfy.input_error import KlingInputError, Rule
from bot.runcomfy.request import KlingRequest, Shot
from bot.wording import RUNCOMFY_PROBLEMS, failure_text, input_refusal, limit_refusal

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted([*ROOT.joinpath("bot").rglob("*.py"), *ROOT.joinpath("cogs").rglob("*.py")])
KEY = re.compile(r"^[a-z_]+(\.[a-z0-9_]+)+$")

CATALOGS = {name: read_catalog(catalog_path(name), name) for name in available_languages()}
PREFIXES = frozenset(key.split(".")[0] for key in CATALOGS[FALLBACK].messages)


def forms(entry: str | tuple[str, ...]) -> tuple[str, ...]:
    return (entry,) if isinstance(entry, str) else entry


def test_german_and_english_are_there() -> None:
    assert {"de", "en"} <= set(CATALOGS)


@pytest.mark.parametrize("language", sorted(CATALOGS))
def test_every_key_is_in_every_catalog(language: str) -> None:
    english, other = CATALOGS[FALLBACK].messages, CATALOGS[language].messages
    assert sorted(set(english) - set(other)) == [], "missing"
    assert sorted(set(other) - set(english)) == [], "not in English"


@pytest.mark.parametrize("language", sorted(CATALOGS))
def test_placeholders_are_the_same_in_every_language(language: str) -> None:
    english = CATALOGS[FALLBACK].messages
    for key, entry in CATALOGS[language].messages.items():
        expected = {placeholders(text) for text in forms(english[key])}
        assert {placeholders(text) for text in forms(entry)} == expected, key
        assert isinstance(entry, str) == isinstance(english[key], str), f"{key}: plural or not"


@pytest.mark.parametrize("language", sorted(CATALOGS))
def test_every_text_formats(language: str) -> None:
    for key, entry in CATALOGS[language].messages.items():
        for text in forms(entry):
            text.format(**dict.fromkeys(placeholders(text), "x"))
            assert text.strip() == text or text.startswith((" ", " —", " (")), key


def keys_in_code() -> set[str]:
    """Every string literal in bot/ and cogs/ that looks like a catalog key."""
    found: set[str] = set()
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                value = node.value
                if KEY.match(value) and value.split(".")[0] in PREFIXES:
                    found.add(value)
    return found


def test_every_key_the_code_uses_is_in_the_catalogs() -> None:
    used = keys_in_code()
    assert len(used) > 50
    for catalog in CATALOGS.values():
        assert sorted(used - set(catalog.messages)) == [], catalog.language


def test_keys_built_from_names_exist() -> None:
    english = CATALOGS[FALLBACK].messages
    for state in JobState:
        assert f"state.{state.value}" in english
    for kind in ErrorKind:
        assert RUNCOMFY_PROBLEMS[kind] in english
    for problem in NoticeProblem:
        assert f"notice_problem.{problem}" in english


def test_input_refused_by_runcomfy_without_words_is_german() -> None:
    german = failure_text(Failure.INPUT_REFUSED, None, texts("de"))
    assert german == "RunComfy hat die Video-Einstellungen abgelehnt."


def test_a_missing_key_falls_back_to_english(tmp_path: Path) -> None:
    path = tmp_path / "bot.po"
    path.write_text('msgid ""\nmsgstr ""\n"Language: de\\n"\n\nmsgid "status.time"\nmsgstr ""\n')
    sparse = read_catalog(path, "de")
    assert "status.time" not in sparse.messages
    tr = texts("de")
    assert type(tr)(sparse, tr.fallback)("status.time") == "Time"


def test_unknown_locales_read_english() -> None:
    assert texts("ja").language == "en"
    assert texts("en-GB").language == "en"
    assert texts("de").language == "de"
    assert languages().language_of(None) == "en"


@pytest.mark.parametrize(
    ("locale", "count", "shown"),
    [
        ("en-US", 1, "1 shot"),
        ("en-US", 2, "2 shots"),
        ("en-US", 0, "0 shots"),
        ("de", 1, "1 Szene"),
        ("de", 3, "3 Szenen"),
    ],
)
def test_plurals(locale: str, count: int, shown: str) -> None:
    assert texts(locale).plural("options.shots", count) == shown


def test_numbers_follow_the_language() -> None:
    de, en = texts("de"), texts("en-US")
    assert de.usd(Decimal("0.63")) == "0,63\xa0$"
    assert en.usd(Decimal("0.63")) == "$0.63"
    assert en.usd(Decimal("1234.5")) == "$1234.50"
    assert de.megabytes(3 * 1024 * 1024 + 512 * 1024) == "3,5 MB"
    assert en.megabytes(3 * 1024 * 1024 + 512 * 1024) == "3.5 MB"
    assert de.number(Decimal("0.084")) == "0,084"
    assert (de.integer(2500), en.integer(2500)) == ("2.500", "2,500")
    assert (de.as_given(1.5), en.as_given(5.0)) == ("1,5", "5.0")
    assert de.either(["16:9", "9:16", "1:1"]) == "16:9, 9:16 oder 1:1"
    assert en.either(["intelligent", "customize"]) == "intelligent or customize"


def test_quota_seconds_are_grouped_the_languages_way() -> None:
    refused = DailySecondsExceeded(seconds=15, used=3590, limit=3600)
    german = limit_refusal(refused, texts("de"))
    assert "auf 3.605 s Video, über deinem Tageskontingent von 3.600 s" in german
    assert "(3.590 s verbraucht, 10 s übrig)" in german
    assert "3,605 s" in limit_refusal(refused, texts("en-US"))


@settings(max_examples=300, deadline=None, database=None)
@given(st.one_of(st.floats(), st.integers(-(2**70), 2**70)))
def test_a_given_number_keeps_its_digits(value: float) -> None:
    """English writes a typed number as the request model does; German swaps the
    separators, except in what has no plain decimal form (`1e+16`, `inf`)."""
    english = texts("en-US").as_given(value)
    assert english == number_as_given(value)
    plain = not any(letter in english for letter in "ein")
    swapped = english.translate(str.maketrans({",": ".", ".": ","}))
    assert texts("de").as_given(value) == (swapped if plain else english)


SHOWING = re.compile(r"^(?:import discord|from discord|from bot\.(?:i18n|wording))\b", re.M)
"""A module that talks to Discord or words things for people."""
OPERATOR_ONLY = {
    "bot/__main__.py": "start-up errors and usage, printed to the operator's terminal",
    "bot/app.py": "configuration problems, raised to the operator at start-up",
    "bot/logs.py": "the log's own format",
    "bot/health.py": "/healthz and /readyz answers, read by the orchestrator",
    "bot/i18n.py": "reads the catalogs; holds no text of its own",
    "bot/cli.py": "the command line, in English (what it shares with Discord comes through "
    "bot.wording)",
    "bot/doctor/discord_side.py": "the doctor's lines, printed to the operator's terminal",
    "bot/doctor/local.py": "the doctor's lines, printed to the operator's terminal",
}
"""Modules that import discord or the catalogs but write only for the operator."""


def shown_modules() -> list[str]:
    """Every module on the Discord side or wording things: a new one is scanned at once."""
    found = []
    for path in SOURCES:
        module = path.relative_to(ROOT).as_posix()
        discord_side = module.startswith(("bot/discord_ui/", "cogs/"))
        if (discord_side or SHOWING.search(path.read_text())) and module not in OPERATOR_ONLY:
            found.append(module)
    return found


SENTENCE = re.compile(r"[A-Za-z]{2,} [a-z]{2,}")
"""Two English words in a row: a phrase someone reads."""
WORD = re.compile(r"[A-Za-z]{2,}")
IDENTIFIER = re.compile(r"^[a-z0-9]+(?:[-_:./][a-z0-9]*)+$")
"""`status-webhook-`, `video:queue:cancel`: names for machines, not words for people."""
NOT_SHOWN = frozenset({"answer_failure", "RuntimeError", "ValueError", "TypeError"})
"""Calls whose text goes to the log or to the operator, never to a member."""
COMMAND_TEXTS = frozenset({"command", "describe", "Group", "Choice"})
"""Command texts: Discord's English defaults, checked against the catalogs above."""
TEXT_KEYWORDS = frozenset(
    {"content", "label", "placeholder", "title", "description", "text", "name", "value"}
)
"""Keywords whose text Discord shows: messages, embeds, buttons, menus, modals."""
SENDS = frozenset({"reply", "send", "send_message", "edit_message", "refuse", "followup"})
"""Calls whose first text argument is a message a member reads."""


def called(node: ast.Call) -> str:
    func = node.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def strings_in(node: ast.AST) -> set[int]:
    return {id(inner) for inner in ast.walk(node)}


def unread(tree: ast.AST) -> set[int]:
    """ids of string nodes no member reads: docstrings, log lines, exceptions for the log,
    the English sentence of a refused input (members read its rule's catalog entry), class
    options (a cog's name) and command texts (checked against the catalogs on their own)."""
    found: set[int] = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list):
            for statement in body:
                if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant):
                    found.add(id(statement.value))
        if isinstance(node, ast.ClassDef):
            for keyword in node.keywords:
                found |= strings_in(keyword)
        if isinstance(node, ast.Call):
            is_log = isinstance(node.func, ast.Attribute) and getattr(
                node.func.value, "id", ""
            ) in ("log", "logging")
            has_rule = called(node) == "KlingInputError" and any(
                keyword.arg == "rule" for keyword in node.keywords
            )
            if is_log or has_rule or called(node) in NOT_SHOWN | COMMAND_TEXTS:
                found |= strings_in(node)
    return found


def shown_places(tree: ast.AST) -> set[int]:
    """ids of string nodes Discord shows as they are, however short: `label="Next"`,
    `reply(interaction, "Done")`."""
    found: set[int] = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        for keyword in node.keywords:
            if keyword.arg in TEXT_KEYWORDS:
                found |= strings_in(keyword.value)
        if called(node) in SENDS:
            texts_given = [
                arg for arg in node.args if isinstance(arg, ast.Constant | ast.JoinedStr)
            ]
            for arg in texts_given[:1]:
                found |= strings_in(arg)
    return found


def command_catalog_texts() -> list[str]:
    english = CATALOGS[FALLBACK].messages
    return [str(text) for key, text in english.items() if key.startswith(("command.", "choice."))]


def is_command_text(node: ast.Constant | ast.JoinedStr, command_texts: list[str]) -> bool:
    """A command text written out (or as an f-string) beside the command, like
    `OPTION_DESCRIPTIONS`: the whole text is a command's English catalog text."""
    if isinstance(node, ast.Constant):
        return node.value in command_texts
    pattern = "".join(
        re.escape(part.value) if isinstance(part, ast.Constant) else ".+" for part in node.values
    )
    return any(re.fullmatch(pattern, text) for text in command_texts)


def sentences_in_source(source: str) -> list[str]:
    """Text a member would read that does not come from the catalogs."""
    tree = ast.parse(source)
    skip = unread(tree)
    shown = shown_places(tree)
    command_texts = command_catalog_texts()
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant | ast.JoinedStr) and is_command_text(node, command_texts):
            skip |= strings_in(node)
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in skip
        and not KEY.match(node.value)
        and not IDENTIFIER.match(node.value)
        and (SENTENCE.search(node.value) or (id(node) in shown and WORD.search(node.value)))
    ]


def sentences_in(module: str) -> list[str]:
    return sentences_in_source((ROOT / module).read_text())


def test_the_scan_covers_every_module_that_shows_text() -> None:
    modules = shown_modules()
    assert {"bot/discord_ui/multishot.py", "bot/server_settings.py", "cogs/video.py"} <= set(
        modules
    )
    assert len(modules) >= 17
    assert set(OPERATOR_ONLY) <= {path.relative_to(ROOT).as_posix() for path in SOURCES}


@pytest.mark.parametrize("module", shown_modules())
def test_no_sentence_bypasses_the_catalog(module: str) -> None:
    assert sentences_in(module) == []


BYPASSES = {
    "a reply": 'await reply(interaction, "Your video is on its way")',
    "a short reply": 'await interaction.followup.send("Done")',
    "an f-string": 'await reply(interaction, f"Video #{job} is ready")',
    "a button label": '@discord.ui.button(label="Next", emoji="▶️")\ndef next(self): ...',
    "a placeholder": 'discord.ui.Select(placeholder="Pick one")',
    "an embed title": 'discord.Embed(title="Usage")',
    "an embed field": 'embed.add_field(name=tr("usage.you"), value="none yet")',
    "a returned phrase": 'def said(error):\n    return error.text or "no details"',
    "a notice problem in words": 'raise NoticeError("the channel is gone", retryable=False)',
    "a refusal without a rule": 'raise KlingInputError("shot", 1, "must be longer.")',
    "almost a command text": 'await reply(interaction, "Cancel a video")',
}


@pytest.mark.parametrize("source", BYPASSES.values(), ids=BYPASSES.keys())
def test_the_scan_finds_text_that_bypasses_the_catalog(source: str) -> None:
    assert sentences_in_source(source), source


PASSES = {
    "a key": 'await reply(interaction, tr("desk.nothing_to_cancel"))',
    "markup": 'label = f"#{job.id} · {state}"',
    "a log line": 'log.warning("could not tell the member about the error")',
    "a docstring": 'def f():\n    """Tell the member what went wrong."""',
    "a refusal's English": 'raise KlingInputError("shot", 1, "must be longer.", rule=Rule.X)',
    "a command text": '@app_commands.describe(job="Which video (default: your latest)")\n'
    "def status(self): ...",
    "a cog's name": 'class Cog(commands.Cog, name="Server settings"): ...',
}


@pytest.mark.parametrize("source", PASSES.values(), ids=PASSES.keys())
def test_the_scan_leaves_what_no_member_reads(source: str) -> None:
    assert sentences_in_source(source) == []


def test_catalog_type_is_immutable() -> None:
    catalog: Catalog = CATALOGS["de"]
    with pytest.raises(TypeError):
        catalog.messages["x"] = "y"  # type: ignore[index]


COMMAND_NAME = re.compile(r"^[-_\w]{1,32}$")


async def command_tree() -> list[Any]:
    bot = commands.Bot(command_prefix="!", intents=discord.Intents.none())
    for extension in extensions():
        await bot.load_extension(extension)
    return list(bot.tree.get_commands())


async def test_every_command_text_is_in_the_catalogs_and_english_matches_the_code() -> None:
    english = CATALOGS[FALLBACK].messages
    found = dict(command_texts(await command_tree()))
    assert len(found) > 80
    for key, text in found.items():
        assert english.get(key) == text, key
        for catalog in CATALOGS.values():
            assert key in catalog.messages, (catalog.language, key)


@pytest.mark.parametrize("language", sorted(CATALOGS))
def test_localized_command_names_and_descriptions_are_within_discords_rules(
    language: str,
) -> None:
    for key, entry in CATALOGS[language].messages.items():
        assert isinstance(entry, str) or not key.startswith(("command.", "choice.")), key
        text = str(entry)
        if key.startswith("command.") and key.endswith(".name"):
            assert COMMAND_NAME.match(text), key
            assert text == text.lower(), key
        elif key.startswith(("command.", "choice.")):
            assert 1 <= len(text) <= 100, key


async def test_the_translator_localizes_german_only() -> None:
    tree = await command_tree()
    translator = CatalogTranslator(languages())
    [video] = [command for command in tree if command.name == "video"]
    generate = video.get_command("generate")
    context = app_commands.TranslationContext(
        location=app_commands.TranslationContextLocation.command_name, data=generate
    )
    name = app_commands.locale_str("generate")
    assert await translator.translate(name, discord.Locale.german, context) == "erstellen"
    assert await translator.translate(name, discord.Locale.american_english, context) is None
    assert await translator.translate(name, discord.Locale.japanese, context) is None


RULE_CLASSES = {"Rule", "ShotRule", "EditRule"}
"""The enums every KlingInputError names its rule from."""


def rule_arguments() -> list[tuple[str, ast.expr]]:
    """The rule of every `KlingInputError(…, rule=…)` and `input_error(…, rule)` call."""
    found: list[tuple[str, ast.expr]] = []
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call) or called(node) not in (
                "KlingInputError",
                "input_error",
            ):
                continue
            rule = next((k.value for k in node.keywords if k.arg == "rule"), None)
            if rule is None and called(node) == "input_error" and len(node.args) >= 4:
                rule = node.args[3]
            assert rule is not None, f"{path.name}:{node.lineno}: a refusal without a rule"
            found.append((f"{path.name}:{node.lineno}", rule))
    return found


def test_every_refusal_names_its_rule_from_the_rule_enums() -> None:
    """So that `Rule`, `ShotRule` and `EditRule` list every rule there is, and the test below
    sees them."""
    arguments = rule_arguments()
    assert len(arguments) > 20
    for where, rule in arguments:
        if isinstance(rule, ast.Name) and rule.id == "rule":
            continue  # input_error() passing its own parameter on
        named = [
            node.value.id
            for node in ast.walk(rule)
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
        ]
        assert named, where
        assert set(named) <= RULE_CLASSES, where
        assert not [n for n in ast.walk(rule) if isinstance(n, ast.Constant)], where


@pytest.mark.parametrize("language", sorted(CATALOGS))
def test_every_input_rule_and_given_kind_has_a_sentence(language: str) -> None:
    messages = CATALOGS[language].messages
    rules = (*Rule, *ShotRule, *EditRule)
    assert [rule.value for rule in rules if f"input.{rule}" not in messages] == []
    assert [kind.value for kind in GivenKind if f"given.{kind}" not in messages] == []


def attempt(make: Callable[[], object]) -> KlingInputError:
    with pytest.raises(KlingInputError) as refused:
        make()
    return refused.value


REFUSED: dict[str, Callable[[], object]] = {
    "blank prompt": lambda: KlingRequest.parse(prompt="   "),
    "long prompt": lambda: KlingRequest.parse(prompt="x" * 2600),
    "invisible prompt": lambda: KlingRequest.parse(prompt="\u200b\u200d"),
    "duration": lambda: KlingRequest.parse(prompt="a fox", duration=20),
    "cfg scale": lambda: KlingRequest.parse(prompt="a fox", cfg_scale=1.5),
    "aspect ratio": lambda: KlingRequest.parse(prompt="a fox", aspect_ratio="4:3"),
    "sound": lambda: KlingRequest.parse(prompt="a fox", sound="yes"),
    "shot type": lambda: KlingRequest.parse(prompt="a fox", shot_type="smart"),
    "shots not a list": lambda: KlingRequest.parse(prompt="a fox", multi_prompt="one"),
    "too many shots": lambda: KlingRequest.parse(
        prompt="a fox", multi_prompt=[{"prompt": "b", "duration": 3}] * 21
    ),
    "shot not an object": lambda: KlingRequest.parse(prompt="a fox", multi_prompt=["x"]),
    "shot duration": lambda: KlingRequest.parse(
        prompt="a fox", multi_prompt=[{"prompt": "b", "duration": 2}]
    ),
    "shots sum": lambda: KlingRequest.parse(
        prompt="a fox", duration=10, multi_prompt=[{"prompt": "b", "duration": 4}] * 2
    ),
    "shots sum, default duration": lambda: KlingRequest.parse(
        prompt="a fox", multi_prompt=[{"prompt": "b", "duration": 3}] * 2
    ),
    "wrong type": lambda: KlingRequest(prompt="a fox", cfg_scale=1),  # type: ignore[arg-type]
    "padded": lambda: KlingRequest(prompt=" a fox "),
    "padded shot": lambda: KlingRequest(prompt="a fox", multi_prompt=(Shot(" b ", 5),)),
    "unknown option": lambda: KlingRequest.from_payload({"prompt": "a fox", "seed": 3}),
    "no prompt": lambda: KlingRequest.from_payload({"duration": 5}),
}
"""At least one refusal for every rule of the request model."""


def test_the_refusals_cover_every_rule() -> None:
    assert {attempt(make).rule for make in REFUSED.values()} == set(Rule)


@pytest.mark.parametrize("make", REFUSED.values(), ids=REFUSED.keys())
def test_english_words_a_refusal_as_the_request_model_does(make: Callable[[], object]) -> None:
    """The command line prints the model's sentence; Discord's English is the same."""
    error = attempt(make)
    assert input_refusal(error, texts("en-US")) == str(error)


@pytest.mark.parametrize("make", REFUSED.values(), ids=REFUSED.keys())
def test_german_words_every_refusal_in_german(make: Callable[[], object]) -> None:
    error = attempt(make)
    german = input_refusal(error, texts("de"))
    assert german != str(error)
    assert "Du hast" in german or "du hast" in german
    assert "You gave" not in german


@pytest.mark.parametrize(
    ("make", "german"),
    [
        (
            REFUSED["long prompt"],
            "`prompt` darf höchstens 2.500 Zeichen lang sein. "
            "Du hast einen Text mit 2.600 Zeichen angegeben.",
        ),
        (
            REFUSED["duration"],
            "`dauer` muss eine ganze Zahl von 3 bis 15 Sekunden sein. Du hast 20 angegeben.",
        ),
        (
            REFUSED["cfg scale"],
            "`prompt_treue` muss eine Zahl von 0 bis 1 sein. Du hast 1,5 angegeben.",
        ),
        (
            REFUSED["aspect ratio"],
            "`seitenverhältnis` muss 16:9, 9:16 oder 1:1 sein. Du hast „4:3“ angegeben.",
        ),
        (
            REFUSED["blank prompt"],
            "`prompt` muss ein Text mit 1 bis 2.500 Zeichen sein. "
            "Du hast nur Leerzeichen angegeben.",
        ),
        (
            REFUSED["too many shots"],
            "`multi_prompt` darf höchstens 20 Szenen haben. "
            "Du hast eine Liste mit 21 Einträgen angegeben.",
        ),
    ],
)
def test_a_german_refusal_names_the_german_option_and_writes_german_numbers(
    make: Callable[[], object], german: str
) -> None:
    assert input_refusal(attempt(make), texts("de")) == german


@pytest.mark.parametrize(
    ("shots", "german"),
    [
        (["5 | harbour", "20 | gulls"], "Szene 2 muss 3 bis 15 Sekunden dauern; sie hat 20."),
        (["5 | harbour"], "braucht 2 bis 5 Szenen; du hast 1 angegeben."),
        (["harbour", "5 | gulls"], "Szene 1 muss mit ihrer Länge in Sekunden beginnen"),
        (["10 | harbour", "10 | gulls"], "deine ergeben 10 + 10 = 20 s."),
    ],
)
def test_refused_shots_in_german_and_english(shots: list[str], german: str) -> None:
    with pytest.raises(KlingInputError) as refused:
        multishot_request(MultishotOptions(prompt="a harbour"), shots)
    assert german in input_refusal(refused.value, texts("de"))
    english = input_refusal(refused.value, texts("en-US"))
    assert english == texts("en-US")(f"input.{refused.value.rule}", **refused.value.facts)
