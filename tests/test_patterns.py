"""No pattern in the package backtracks super-linearly (issue 16): each one is run on adversarial
inputs of two sizes, and its time must grow about in proportion."""

import importlib
import pkgutil
import re
import time

import pytest

import askbrief

TEXT_CHARS = 20_000  # text patterns run over whole articles
QUESTION_CHARS = 1_000  # question patterns never see more (MAX_QUESTION)
QUESTION_MODULES = {"askbrief.retrieve.question", "askbrief.retrieve.dates", "askbrief.retrieve.dates_fr_de_es", "askbrief.citations",
                    "askbrief.engine"}
# Runs of what the patterns look for, never completed: names without a cue, cues without a
# clause end, quote marks, initials, long words, spaces, digits and dates.
SEEDS = ["Aa ", "A. ", "Mr Aa ", "the minister ", "He said ", "said Aa ", "according to Aa ", '"', "“a ", "a",
         " ", "1", "2023-", "since ", "what did x ", "Aa, Bb, ", "x'", "a.b", "\n", "said that a, "]


def patterns() -> list[tuple[str, re.Pattern]]:
    found = []
    for info in pkgutil.walk_packages(askbrief.__path__, "askbrief."):
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            found += [(f"{module.__name__}.{name}{key}", pattern) for key, pattern in _within(value)]
    return found


def _within(value, key: str = "") -> list[tuple[str, re.Pattern]]:
    """The patterns a module-level value holds: itself, or those of a table of them by language."""
    if isinstance(value, re.Pattern):
        return [(key, value)]
    if isinstance(value, dict):
        return [found for k, v in value.items() for found in _within(v, f"{key}[{k}]")]
    if isinstance(value, tuple) and value and all(isinstance(v, re.Pattern) for v in value):
        return [found for i, v in enumerate(value) for found in _within(v, f"{key}[{i}]")]
    return []


def worst_time(pattern: re.Pattern, size: int) -> float:
    """The slowest seed's time, each the best of 3 runs: a scheduler's or collector's pause of a few
    milliseconds on a busy machine is no backtracking."""
    worst = 0.0
    for seed in SEEDS:
        text = (seed * (size // len(seed) + 1))[:size] + "!"
        runs = []
        for _ in range(3):
            started = time.perf_counter()
            for _ in pattern.finditer(text):
                pass
            pattern.match(text)
            runs.append(time.perf_counter() - started)
        worst = max(worst, min(runs))
    return worst


def test_the_package_has_its_patterns_at_module_level():
    names = {n for n, _ in patterns()}
    assert {"askbrief.text.quotes._NAME_BEFORE_CUE", "askbrief.text.quotes._REPORTED",
            "askbrief.retrieve.question._ASKS_SPEAKER", "askbrief.text.sentences._WORD",
            "askbrief.ingest.documents._DATE_HEADER"} <= names
    assert len(names) >= 40  # every pattern the package uses, compiled once at import


@pytest.mark.parametrize("name, pattern", patterns(), ids=[n for n, _ in patterns()])
def test_every_pattern_runs_in_linear_time(name, pattern):
    size = QUESTION_CHARS if name.rsplit(".", 1)[0] in QUESTION_MODULES else TEXT_CHARS
    small, large = worst_time(pattern, size // 4), worst_time(pattern, size)
    assert large < 0.25, f"{name}: {large:.3f} s on {size} characters"
    assert large < 8 * small + 0.005, f"{name}: {small:.4f} s at {size // 4} chars, {large:.4f} s at {size}: super-linear"
