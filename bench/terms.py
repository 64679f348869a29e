"""Blocked terms: how long matching one prompt takes against a server's full list.

`TermMatcher` (bot/policy/terms.py) is compiled once from `terms` random terms (words of
4–10 letters, every third a two-word phrase) and then asked about prompts of four kinds,
each `repeat` times, in this one process (no Discord, no database): plain English, a
German prompt with umlauts, one full of numbers and model names (`4k`, `1080p`, `5 s`),
and an adversarial one with every word spelled in digits and accents. Compiling the list
is timed too (it happens once per change of a server's terms).

    python -m bench.terms [--terms 500] [--chars 2500] [--repeat 2000] [--smoke]
"""

from __future__ import annotations

import argparse
import functools
import random
import string
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bot.policy.terms import TERMS_PER_SERVER, TermMatcher
from testkit.stats import Summary

TARGET_MS = 1.0
"""Matching one prompt must stay under this (the median, at the full list; the p99 of a
loop this short shows more of the machine's other work than of the matching)."""
GERMAN = (
    "ein grüner Fuchs läuft über die verschneite Wiese, die Kamera schwenkt langsam nach "
    "oben, weiches Morgenlicht, Nebel über dem Fluss, Vögel fliegen über die Bäume "
)
NUMBERS = "a 4k shot at 1080p, 5 s, 24 fps, f/2.8, 35mm lens, 3 birds, 7 trees, mp4 h264 "


@dataclass(frozen=True, slots=True)
class TermsConfig:
    terms: int = TERMS_PER_SERVER
    chars: int = 2500
    """Prompt length (RunComfy's longest prompt)."""
    repeat: int = 2000
    seed: int = 7


SMOKE = TermsConfig(terms=50, chars=300, repeat=20)


@dataclass(frozen=True, slots=True)
class TermsResult:
    config: TermsConfig
    compile_ms: float
    per_prompt_ms: dict[str, Summary]

    @property
    def worst_p50_ms(self) -> float:
        return max(summary.p50 for summary in self.per_prompt_ms.values())


def _word(rng: random.Random) -> str:
    return "".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(4, 10)))


def _terms(config: TermsConfig, rng: random.Random) -> list[str]:
    return [
        _word(rng) + (f" {_word(rng)}" if number % 3 == 0 else "") for number in range(config.terms)
    ]


def _fill(text: str, chars: int) -> str:
    return (text * (chars // len(text) + 1))[:chars].strip()


def prompts(config: TermsConfig, rng: random.Random) -> dict[str, str]:
    english = " ".join(_word(rng) + rng.choice(["", "", ",", "."]) for _ in range(config.chars))
    adversarial = english.translate(str.maketrans("aeios", "4é1ö5"))
    return {
        "english": english[: config.chars].strip(),
        "german": _fill(GERMAN, config.chars),
        "numbers": _fill(NUMBERS, config.chars),
        "adversarial": adversarial[: config.chars].strip(),
    }


def _timed(call: Callable[[], object], repeat: int) -> Summary:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return Summary.of(samples)


def run_terms(config: TermsConfig) -> TermsResult:
    rng = random.Random(config.seed)
    terms = _terms(config, rng)
    started = time.perf_counter()
    matcher = TermMatcher.of(terms)
    compile_ms = (time.perf_counter() - started) * 1000
    matcher.find(["warm up: the first text that is not ASCII (ü) builds a table once"])
    found = {
        kind: _timed(functools.partial(matcher.find, [text]), config.repeat)
        for kind, text in prompts(config, rng).items()
    }
    return TermsResult(config, compile_ms, found)


def render(result: TermsResult) -> str:
    config = result.config
    lines = [
        f"{config.terms} terms, prompts of {config.chars:,} characters, "
        f"{config.repeat} runs each; compiling the list: {result.compile_ms:.2f} ms",
        "",
        "| prompt | p50 | p99 | max | target (p50) |",
        "|---|---|---|---|---|",
    ]
    for kind, summary in result.per_prompt_ms.items():
        verdict = "✅" if summary.p50 < TARGET_MS else "❌"
        lines.append(
            f"| {kind} | {summary.p50:.3f} ms | {summary.p99:.3f} ms | {summary.max:.3f} ms "
            f"| < {TARGET_MS:g} ms {verdict} |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = TermsConfig()
    parser.add_argument("--terms", type=int, default=default.terms)
    parser.add_argument("--chars", type=int, default=default.chars)
    parser.add_argument("--repeat", type=int, default=default.repeat)
    parser.add_argument("--smoke", action="store_true")
    options = parser.parse_args(argv)
    config = SMOKE if options.smoke else TermsConfig(options.terms, options.chars, options.repeat)
    print(render(run_terms(config)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
