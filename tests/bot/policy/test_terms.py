"""Blocked terms: folding, whole-word matching, evasions read back, and harmless words
that contain a term left alone; a property: a term put anywhere in a prompt at a word
boundary is always found."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from bot.policy.terms import TermMatcher, fold, term_key, tidy_term

TERMS = ("ass", "nude", "blue waffle", "kill", "slut", "sex", "色情")
MATCHER = TermMatcher.of(TERMS)


def found(text: str, matcher: TermMatcher = MATCHER) -> str | None:
    hit = matcher.find([text])
    return None if hit is None else hit.term


@pytest.mark.parametrize(
    ("text", "term"),
    [
        ("a nude statue", "nude"),
        ("A NUDE statue", "nude"),
        ("a Nüde statue", "nude"),
        ("a n\u200bu\u200dde statue", "nude"),
        ("a n.u.d.e statue", "nude"),
        ("a n u d e statue", "nude"),
        ("a n - u - d - e statue", "nude"),
        ("a nu*de statue", "nude"),
        ("ａ ｎｕｄｅ statue", "nude"),
        ("a n0de statue", None),
        ("a nud3 statue", "nude"),
        ("what a bad-ass car", "ass"),
        ("a.s.s", "ass"),
        ("@ss", "ass"),
        ("a$$", "ass"),
        ("s3x", "sex"),
        ("sеx with a Cyrillic e", "sex"),
        ("k1ll it", "kill"),
        ("ki11 it", "kill"),
        ("s1ut", "slut"),
        ("a blue waffle", "blue waffle"),
        ("a Blue-Waffle", "blue waffle"),
        ("a bluewaffle", "blue waffle"),
        ("a b l u e w a f f l e", "blue waffle"),
        ("这是色情视频", "色情"),
    ],
)
def test_evasions_are_read_back(text: str, term: str | None) -> None:
    assert found(text) == term


@pytest.mark.parametrize(
    "text",
    [
        "a class of students passes the assassin",
        "a glass of wine in Massachusetts",
        "a grassy hill, 5 s long, 1080p",
        "m a s s of people",
        "as s-shaped as a river",
        "nu de",
        "a skillful knight",
        "sextant and essex",
        "Sussex in the 1990s, 4k",
        "a blue sky over a waffle stand",
        "блюз",
    ],
)
def test_harmless_prompts_pass(text: str) -> None:
    assert found(text) is None


def test_each_text_is_matched_on_its_own_and_named() -> None:
    hit = MATCHER.find(["a calm lake", None, "a blue", "waffle"])
    assert hit is None
    hit = MATCHER.find(["a calm lake", "nude", "a shot"])
    assert hit is not None
    assert (hit.term, hit.where) == ("nude", 1)


def test_no_terms_find_nothing() -> None:
    assert not TermMatcher.of([])
    assert TermMatcher.of([]).find(["anything at all"]) is None


def test_terms_are_compared_by_their_folded_words() -> None:
    assert term_key("N.U.D.E") == term_key("nude") == term_key("  Nüde ") == "nude"
    assert term_key("Blue   Waffle") == "blue waffle"
    assert term_key("...") == ""
    assert tidy_term("  blue \t waffle ") == "blue waffle"


def test_folding_drops_accents_and_invisible_characters() -> None:
    assert fold("Ünïcödé\u200b\u00adSTRASSE") == "unicodestrasse"
    assert fold("ﬁne") == "fine"
    assert fold("Straße") == "strasse"


WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=8)
PROMPT = st.text(max_size=200)


@settings(max_examples=300, deadline=None)
@given(
    prompt=PROMPT,
    term=st.lists(WORD, min_size=1, max_size=3).map(" ".join),
    position=st.integers(min_value=0, max_value=200),
)
def test_a_term_inserted_at_a_word_boundary_is_always_found(
    prompt: str, term: str, position: int
) -> None:
    """Anywhere in any text, with spaces around it (a word boundary, whatever the text)."""
    at = min(position, len(prompt))
    text = f"{prompt[:at]} {term} {prompt[at:]}"
    assert TermMatcher.of([term]).find([text]) is not None


EVASIONS: st.SearchStrategy[Callable[[str], str]] = st.sampled_from(
    [
        lambda word: word.upper(),
        lambda word: ".".join(word),
        lambda word: " ".join(word),
        lambda word: "\u200b".join(word),
        lambda word: "".join(letter + "\u0301" for letter in word),
        lambda word: word.replace("o", "0").replace("e", "3").replace("a", "4"),
    ]
)


@settings(max_examples=300, deadline=None)
@given(prompt=PROMPT, word=WORD, position=st.integers(0, 200), evade=EVASIONS)
def test_an_evaded_term_is_still_found(
    prompt: str, word: str, position: int, evade: Callable[[str], str]
) -> None:
    """Between two words (letters spelled out one by one next to other lone letters are
    read as one longer word), and with at least one letter left (a number standing alone
    is never read as letters)."""
    evaded = evade(word)
    assume(any(letter.isalpha() for letter in evaded))
    at = min(position, len(prompt))
    text = f"{prompt[:at]} then {evaded} now {prompt[at:]}"
    assert TermMatcher.of([word]).find([text]) is not None
