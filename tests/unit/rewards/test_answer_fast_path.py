"""math_answer's fast path (one plain answer stated once) reads exactly what the full extraction rules read.

:func:`extract_answer` first tries a single search for the common well-formed answer and falls back to
the rules one by one (:func:`extract_by_rules`); both must give the same :class:`Extraction` — number,
rule and ``conflicting`` — for every GSM8K solution in every answer format, and for hostile text.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bedrock_rft_provider.rewards.numeric import (
    _stated_once,
    extract_answer,
    extract_by_rules,
    normalize_text,
)

# The answer formats of benchmarks/bench_rewards.py plus near misses that the fast path must hand over.
FORMATS = (
    "{steps}\n#### {answer}",
    "{steps}\nThe answer is {answer}.",
    "{steps}\nSo the final answer is \\boxed{{{answer}}}.",
    "{steps}\nShe ends up with ${answer} in total.",
    "{steps}\nThe answer is {answer}. (I checked it in 2 steps.)",
    "{steps}\nAnswer: {answer}",
    "{steps}\n##### {answer}",
    "{steps}\n#### {answer}\n#### 3",
    "{steps}\nThe answer is {answer}.5",
    "{steps}\nThe answer is {answer} apples.",
    "{steps}\nThe an\u017fwer is 3. The answer is {answer}.",
    "{steps}\nThe ANSWer is {answer}.",
    "{steps}\nThe reanswer is {answer};",
    "{steps}\n\\boxed{{{answer}}} or \\fbox{{3}}",
    "{steps}\n<<\\boxed{{{answer}}}>> \\boxed{{3}}",
    "{steps}\n#### {answer}%",
    "{steps}\nThe answer is {answer}\u00a0000.",
)

HOSTILE = [
    "\\boxed{" * 2_500 + "#",
    "\\boxed{{" * 1_250 + "18",
    "answer is " * 6_250,
    "The answer is 7 " * 3_750,
    "1 " * 25_000,
    "#### " + "9" * 5_000,
    "The answer is " + "9" * 5_000 + ".",
    "\\boxed{" + "9" * 19 + "}",
    "#### 1234567890123456789",
    "####\n18",
    "#### -0",
    "#### +18",
    "The answer is\n\n-42;",
    "Answer: 18\r\n",
    "x" * 100_000 + "\nThe answer is 18.",
]


def _agree(text: str) -> None:
    assert extract_answer(text) == extract_by_rules(normalize_text(text)), text[:200]


def _gsm8k_solutions(gsm8k_dir: Path) -> list[tuple[str, str]]:
    out = []
    for split in ("train", "test"):
        for line in (gsm8k_dir / f"{split}.jsonl").read_text().splitlines():
            steps, answer = json.loads(line)["answer"].rsplit("####", 1)
            out.append((re.sub(r"<<[^>]*>>", "", steps.strip()), answer.strip().replace(",", "")))
    return out


@pytest.mark.gsm8k
def test_fast_path_agrees_with_the_rules_on_every_gsm8k_solution_in_every_format(gsm8k_dir: Path) -> None:
    solutions = _gsm8k_solutions(gsm8k_dir)
    taken = 0
    for steps, answer in solutions:
        for form in FORMATS:
            text = form.format(steps=steps, answer=answer)
            _agree(text)
            taken += _stated_once(normalize_text(text)) is not None
    assert len(solutions) == 8792
    # The fast path is really taken (the three well-formed formats of five), not a no-op that agrees.
    assert taken >= 3 * len(solutions) * 0.95


@pytest.mark.gsm8k
def test_fast_path_agrees_on_the_original_gsm8k_solutions(gsm8k_dir: Path) -> None:
    for split in ("train", "test"):
        for line in (gsm8k_dir / f"{split}.jsonl").read_text().splitlines():
            _agree(json.loads(line)["answer"])


@pytest.mark.parametrize("text", HOSTILE, ids=[f"hostile-{i}" for i in range(len(HOSTILE))])
def test_fast_path_agrees_on_hostile_text(text: str) -> None:
    try:
        expected = extract_by_rules(normalize_text(text))
    except ValueError:  # a number past int()'s digit limit: both paths must fail alike
        with pytest.raises(ValueError):
            extract_answer(text)
        return
    assert extract_answer(text) == expected


FRAGMENTS = st.sampled_from(
    [
        "####", "#", " ", "\t", "\n", "18", "-3", "007", "1,000", "5.5", ".", ";", "%", "=", ":", "/",
        "The answer is ", "answer:", "ANSWER IS ", "ANSWer is ", "an\u017fwer is ", "reanswer is ",
        "\\boxed{", "\\fbox{", "}", "{", "box", "A: ", "<<", ">>", "\\,", "\u2212", "\u00a0", "$", "million",
    ]
)  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(st.lists(FRAGMENTS, max_size=14).map("".join))
def test_fast_path_agrees_on_any_mix_of_answer_fragments(text: str) -> None:
    _agree(text)
