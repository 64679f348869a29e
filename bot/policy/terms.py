"""Blocked terms: how a prompt and a term are folded to one form, and how a prompt is
matched against a server's terms.

Folding (`fold`), the same for terms and prompts:

- NFKC (fullwidth, ligatures, circled and mathematical letters become plain ones), then
  case folding (`ß` → `ss`), then accents dropped (`nüde` → `nude`: every combining mark
  after NFD) and invisible format characters removed (zero-width spaces and joiners, the
  soft hyphen, direction marks: Unicode's `Cf`).
- Inside a whitespace-delimited token that holds at least one letter, digits and signs
  that stand for letters are read as those letters: 0→o, 1→i, 3→e, 4→a, 5→s, 7→t,
  @→a, $→s; a word with a 1 in it is also compared with i, l and 1 made one letter, so
  `s1ut` and `ki11` are found too. A number standing alone (`5 s`, `717`, `2024`) is
  never read as letters. The cost: a token that mixes letters and those digits on
  purpose is read as a word too, so a term `ass` also refuses `a55` (a road, a phone
  model) and `sex` refuses `5ex`; model names like `4k`, `mp4` or `h264` read as `ak`,
  `mpa`, `h2ea`, which only matters if those are terms. 2, 6, 8 and 9 are left alone
  (too many real words and names use them).
- In a token that also holds Latin letters, Cyrillic and Greek letters that look like
  Latin ones are read as those (`sеx` with a Cyrillic `е`). A word written wholly in
  Cyrillic or Greek is left as it is, so Russian or Greek prompts are not misread; a
  term in those scripts matches them as written.

Matching is by whole words: the text is cut into pieces (runs of letters and digits;
each Chinese or Japanese character is a piece of its own, as those scripts put no spaces
between words), and a term, itself cut the same way, matches where its pieces appear
one after another. So `ass` is not found in `class` or `assassin`, and a phrase
(`blue waffle`) matches across any spaces or punctuation between its words. Evasions
are read back into words before matching:

- punctuation inside a token joins its pieces: `n.u.d.e`, `nu-de`, `n*u*d*e` are `nude`
  (a token's pieces are tried both one by one and joined, so `bad-ass` still has `ass`);
- single letters standing apart are joined: `n u d e`, `n . u . d . e` are `nude`.
  Only a whole run of single letters is joined, so `m a s s` is `mass`, never `ass`
  (but a run that starts with `a` or `i`, as in `a n u d e`, is also tried without
  them); a word broken once by a space (`nu de`) is two words and is not caught;
- a phrase also matches its words written together (`bluewaffle`).

Speed: the terms are compiled once per change into a dictionary of words (every term
joined into one) and one of phrases keyed by their first word. A text is read in one
pass over its tokens (plain words need no regular expression), and its words meet the
terms in a set intersection, so matching costs about the same whatever the number of
terms (bench/terms.py and docs/benchmarks.md: well under 1 ms for a 2,500-character
prompt against 500 terms).
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache

TERM_MAX_CHARS = 100
"""A term is a word or a short phrase."""
TERMS_PER_SERVER = 500

_LEET: dict[int, str] = str.maketrans(
    {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s"}
)
_LOOKALIKES = str.maketrans(
    {
        # Cyrillic, as case folding leaves it
        "а": "a",
        "в": "b",
        "е": "e",
        "і": "i",
        "ј": "j",
        "к": "k",
        "м": "m",
        "о": "o",
        "р": "p",
        "с": "c",
        "т": "t",
        "у": "y",
        "х": "x",
        "ѕ": "s",
        "һ": "h",
        "ԁ": "d",
        "ӏ": "l",
        # Greek
        "α": "a",
        "β": "b",
        "ε": "e",
        "ι": "i",
        "κ": "k",
        "ν": "v",
        "ο": "o",
        "ρ": "p",
        "τ": "t",
        "υ": "u",
        "χ": "x",
    }
)
_LATIN = re.compile(r"[a-z]")
_NOT_ASCII = re.compile(r"[^\x00-\x7f]+")
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_PIECE = re.compile(rf"[{_CJK}]|[^\W_{_CJK}]+")
_AROUND_WORDS = string.punctuation.replace("@", "").replace("$", "")
"""Punctuation a plain word may have around it (`fox,`, `(dawn)`); `@` and `$` stand
for letters."""
_LEET_CHAR = re.compile(r"[013457@$]")
_LETTER = re.compile(r"[^\W\d_]")
_ONE_LETTER_WORDS = frozenset("ai")
"""`a` and `I` before a spelled-out word (`a n u d e`) join its run of single letters."""
_CJK_CHAR = re.compile(rf"[{_CJK}]")
TOKENS_KEPT = 4096
"""Tokens that are not plain words, remembered with how they read (a few hundred kB)."""
_I_L_BLIND = str.maketrans({"i": "1", "l": "1", "\x00": "1"})


_DROPPED = ("Mn", "Me", "Cf")
_ASTRAL_MARKS = ((0x1D165, 0x1D1AD), (0xE0000, 0xE007F), (0xE0100, 0xE01EF))
"""Combining marks and format characters beyond the first 65,536 code points: musical
marks, tag characters (invisible "emoji tags"), variation selectors."""


@cache
def _unaccented() -> dict[int, str | None]:
    """One translation table, built once (on the first text that is not plain ASCII):
    every letter with marks → its letters without them (`é` → `e`, `ǆ` → `dž` → `dz`),
    every combining mark and format character → nothing. Hangul and other letters that
    decompose into letters, not marks, are left as they are."""
    table: dict[int, str | None] = {}
    for code in range(0x10000):
        char = chr(code)
        if unicodedata.category(char) in _DROPPED:
            table[code] = None
            continue
        parts = unicodedata.normalize("NFD", char)
        if parts != char and any(unicodedata.combining(part) for part in parts):
            table[code] = "".join(part for part in parts if not unicodedata.combining(part))
    for low, high in _ASTRAL_MARKS:
        table.update(dict.fromkeys(range(low, high + 1)))
    return table


def fold(text: str) -> str:
    """NFKC, case folded, accents and invisible characters removed (see the module).
    Only the stretches that are not ASCII are looked up (most of a prompt in a Latin
    script is), each stretch once (`ü`, `ä` come back again and again)."""
    if text.isascii():
        return text.lower()
    return _NOT_ASCII.sub(_unaccent, unicodedata.normalize("NFKC", text).casefold())


def _unaccent(stretch: re.Match[str]) -> str:
    return _unaccented_stretch(stretch[0])


@lru_cache(maxsize=TOKENS_KEPT)
def _unaccented_stretch(stretch: str) -> str:
    return stretch.translate(_unaccented())


def _spelled(token: str) -> str:
    """Digits, signs and look-alikes in a token read as the letters they stand for (the
    token itself when there are none)."""
    if _LETTER.search(token) is None:
        return token
    if _LEET_CHAR.search(token) is not None:
        token = token.translate(_LEET)
    if not token.isascii() and _LATIN.search(token) is not None:
        token = token.translate(_LOOKALIKES)
    return token


@dataclass(frozen=True, slots=True)
class Reading:
    """A text read three ways: its pieces one by one, each token's pieces joined, and its
    pieces with every run of single letters joined (a 1 read as i throughout); and the
    tokens with a 1 in them with i, l and 1 made the same (`_blind`), since a 1 may stand
    for l (`s1ut`) or the 1s of one word for different letters (`ki11`)."""

    pieces: tuple[str, ...]
    tokens: tuple[str, ...]
    runs: tuple[str, ...]
    blind: tuple[str, ...] = ()
    unled: tuple[str, ...] = ()
    """Runs of single letters that start with a one-letter word (`a n u d e`), without it."""

    def sequences(self) -> tuple[tuple[str, ...], ...]:
        return (self.pieces, self.tokens, self.runs)


def _joined_runs(pieces: list[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The pieces with every run of two or more single letters joined, and those joined
    runs that start with a one-letter word, without it (`a n u d e` → `nude`). Only the
    single letters are looked at one by one."""
    lone = [
        index
        for index, piece in enumerate(pieces)
        if len(piece) == 1 and piece.isalpha() and _CJK_CHAR.match(piece) is None
    ]
    runs: list[tuple[int, int]] = []
    for index in lone:
        if runs and runs[-1][1] == index:
            runs[-1] = (runs[-1][0], index + 1)
        else:
            runs.append((index, index + 1))
    out: list[str] = []
    unled: list[str] = []
    done = 0
    for start, end in runs:
        if end - start < 2:
            continue
        joined = "".join(pieces[start:end])
        out.extend(pieces[done:start])
        out.append(joined)
        if joined[0] in _ONE_LETTER_WORDS and len(joined) > 2:
            unled.append(joined[1:])
        done = end
    if not done:
        return tuple(pieces), ()
    out.extend(pieces[done:])
    return tuple(out), tuple(unled)


def _blind(word: str) -> str:
    """A word with i, l and 1 made one and the same (`k1ll`, `ki11`, `kill` → `k111`)."""
    return word.translate(_I_L_BLIND)


@lru_cache(maxsize=TOKENS_KEPT)
def _odd_token(token: str) -> tuple[tuple[str, ...], str, tuple[str, ...], int]:
    """A token that is not a plain word: its pieces, them joined, its words with i, l and
    1 made the same when it has a 1 standing for a letter, and how many of its pieces are
    one character. Kept for the next prompt: numbers, units and model names (`4k`,
    `1080p`, `5s`) come back again and again."""
    spelled = _spelled(token)
    blind: tuple[str, ...] = ()
    if spelled is not token and "1" in token:
        found_blind = _PIECE.findall(_blind(_spelled(token.replace("1", "\x00"))))
        blind = (*found_blind, "".join(found_blind))
    found = tuple(_PIECE.findall(spelled))
    return found, "".join(found), blind, sum(len(piece) == 1 for piece in found)


def read(folded: str) -> Reading:
    """A folded text (`fold`) cut into words, its evasions read back (see the module).

    One pass over the tokens; a plain word (ASCII letters only, maybe with punctuation
    around it: most of any prompt) is its own piece and token without a regular
    expression."""
    pieces: list[str] = []
    tokens: list[str] = []
    blind_words: list[str] = []
    singles = 0
    for token in folded.split():
        core = token.strip(_AROUND_WORDS)
        if core.isalpha() and core.isascii():
            pieces.append(core)
            tokens.append(core)
            singles += len(core) == 1
            continue
        found, joined, blind, lone = _odd_token(token)
        if blind:
            blind_words.extend(blind)
        if found:
            pieces.extend(found)
            tokens.append(joined)
            singles += lone
    runs, unled = _joined_runs(pieces) if singles > 1 else (tuple(pieces), ())
    return Reading(tuple(pieces), tuple(tokens), runs, tuple(blind_words), unled)


def term_key(term: str) -> str:
    """What makes two terms the same (`Nude`, `n.u.d.e`, `NUDE` → `nude`); empty when
    the term has no letter or digit at all."""
    return " ".join(read(fold(term)).runs)


def tidy_term(term: str) -> str:
    """A term as it is kept and shown: trimmed, inner whitespace made single spaces."""
    return " ".join(term.split())


@dataclass(frozen=True, slots=True)
class Hit:
    term: str
    """The term as the server wrote it."""
    where: int
    """Which of the texts given to `TermMatcher.find` it was found in."""


@dataclass(frozen=True, slots=True)
class TermMatcher:
    """A server's blocked terms, compiled once for fast matching."""

    terms: tuple[str, ...] = ()
    _phrases: dict[str, tuple[tuple[tuple[str, ...], str], ...]] = field(
        default_factory=dict, repr=False
    )
    _words: dict[str, str] = field(default_factory=dict, repr=False)
    _blind: dict[str, str] = field(default_factory=dict, repr=False)

    @classmethod
    def of(cls, terms: Iterable[str]) -> TermMatcher:
        """Compile the terms: by first word for phrases, by their joined form for words
        (a phrase written as one word matches too). A term is read the way prompts are:
        its words are its runs of single letters joined (`n.u.d.e` is the word `nude`, so
        it never matches the `a s s` inside `m a s s`, and `bad-ass` is `bad ass`) and
        also, when it has any, its words as written between spaces (`a a`)."""
        kept = tuple(terms)
        phrases: dict[str, list[tuple[tuple[str, ...], str]]] = {}
        words: dict[str, str] = {}
        for term in kept:
            reading = read(fold(term))
            if not reading.runs:
                continue
            words.setdefault("".join(reading.runs), term)
            for pieces in {reading.runs, reading.tokens}:
                if len(pieces) > 1:
                    phrases.setdefault(pieces[0], []).append((pieces, term))
        blind = {_blind(word): term for word, term in reversed(words.items())}
        return cls(kept, {key: tuple(found) for key, found in phrases.items()}, words, blind)

    def __bool__(self) -> bool:
        return bool(self._words)

    def find(self, texts: Sequence[str | None]) -> Hit | None:
        """The first blocked term found in any of `texts` (prompt, negative prompt, each
        shot: each on its own, so a phrase never spans two of them), or None."""
        if not self._words:
            return None
        for where, text in enumerate(texts):
            if not text:
                continue
            term = self._in(read(fold(text)))
            if term is not None:
                return Hit(term, where)
        return None

    def _in(self, reading: Reading) -> str | None:
        """A term among the reading's words: the sets meet first (fast, and nearly always
        empty); only a word that starts a phrase is looked at in place."""
        blind = self._blind.keys() & reading.blind
        if blind:
            return self._blind[next(word for word in reading.blind if word in blind)]
        unled = self._words.keys() & reading.unled
        if unled:
            return self._words[next(word for word in reading.unled if word in unled)]
        for sequence in reading.sequences():
            words = self._words.keys() & sequence
            if words:
                return self._words[next(piece for piece in sequence if piece in words)]
            for first in self._phrases.keys() & sequence:
                for index, piece in enumerate(sequence):
                    if piece != first:
                        continue
                    for pieces, phrase in self._phrases[first]:
                        if sequence[index : index + len(pieces)] == pieces:
                            return phrase
        return None
