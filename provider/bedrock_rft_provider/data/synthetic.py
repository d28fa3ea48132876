"""An offline, seeded generator of GSM8K-style multi-step arithmetic word problems with exact answers.

Records have the GSM8K raw shape (``question``, ``answer`` with ``<<a*b=c>>`` notes and a final
``#### N``) plus ``id`` and ``difficulty`` (the number of steps), so they go through the same converter
as real GSM8K (:func:`bedrock_rft_provider.data.gsm8k.to_rft_record`). Record ``i`` depends only on
``seed``: ``generate(n + k, seed)`` starts with ``generate(n, seed)``, and no question repeats.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Iterator
from typing import Any

NAMES = (
    "Natalia", "Weng", "Betty", "Julie", "James", "Albert", "Ken", "Alexis", "Tina", "Mark",
    "Carla", "Omar", "Priya", "Diego", "Mei", "Samir", "Hannah", "Lucas", "Amara", "Felix",
)  # fmt: skip
ITEMS = (
    "apples", "pencils", "stickers", "marbles", "cupcakes", "books", "shells", "cards", "tomatoes",
    "stamps", "coins", "seashells", "buttons", "crayons", "acorns", "pebbles", "feathers", "leaves",
)  # fmt: skip
PRICED = (("notebook", "notebooks"), ("pen", "pens"), ("sandwich", "sandwiches"), ("ticket", "tickets"))

Step = tuple[str, str, int]  # (sentence before the result, expression, exact integer result)
Template = Callable[[random.Random, str], tuple[str, list[Step], str]]


def _half_as_many(rng: random.Random, name: str) -> tuple[str, list[Step], str]:
    first = 2 * rng.randint(6, 60)
    item = rng.choice(ITEMS)
    question = (
        f"{name} collected {first} {item} on Monday, and then half as many {item} on Tuesday. "
        f"How many {item} did {name} collect on Monday and Tuesday together?"
    )
    second = first // 2
    steps = [
        (f"On Tuesday {name} collected", f"{first}/2", second),
        (f"Together {name} collected", f"{first}+{second}", first + second),
    ]
    return question, steps, item


def _wages(rng: random.Random, name: str) -> tuple[str, list[Step], str]:
    rate, hours, days = rng.randint(8, 40), rng.randint(2, 9), rng.randint(3, 7)
    question = (
        f"{name} earns ${rate} an hour. {name} works {hours} hours a day for {days} days. "
        f"How many dollars does {name} earn in total?"
    )
    daily = rate * hours
    steps = [
        (f"Each day {name} earns", f"{rate}*{hours}", daily),
        (f"In {days} days {name} earns", f"{daily}*{days}", daily * days),
    ]
    return question, steps, "dollars"


def _change(rng: random.Random, name: str) -> tuple[str, list[Step], str]:
    (_, many_a), (_, many_b) = rng.sample(PRICED, 2)
    count_a, price_a = rng.randint(2, 6), rng.randint(2, 15)
    count_b, price_b = rng.randint(2, 6), rng.randint(2, 15)
    cost_a, cost_b = count_a * price_a, count_b * price_b
    total = cost_a + cost_b
    paid = (total // 50 + 1) * 50
    question = (
        f"{name} buys {count_a} {many_a} for ${price_a} each and {count_b} {many_b} for ${price_b} each. "
        f"{name} pays with ${paid}. How many dollars of change does {name} get?"
    )
    steps = [
        (f"The {many_a} cost", f"{count_a}*{price_a}", cost_a),
        (f"The {many_b} cost", f"{count_b}*{price_b}", cost_b),
        ("Altogether they cost", f"{cost_a}+{cost_b}", total),
        (f"{name} gets back", f"{paid}-{total}", paid - total),
    ]
    return question, steps, "dollars"


def _garden(rng: random.Random, name: str) -> tuple[str, list[Step], str]:
    friends = rng.randint(2, 6)
    rows, per_row = rng.randint(3, 12), rng.randint(4, 15)
    planted = rows * per_row
    died = planted % friends + friends * rng.randint(0, max(0, planted // friends - 2) // 3)
    alive = planted - died
    question = (
        f"{name} plants {rows} rows of tomato plants with {per_row} plants in each row. "
        f"{died} of the plants die. {name} shares the remaining plants equally among {friends} friends. "
        "How many plants does each friend get?"
    )
    steps = [
        (f"{name} planted", f"{rows}*{per_row}", planted),
        ("The plants left are", f"{planted}-{died}", alive),
        ("Each friend gets", f"{alive}/{friends}", alive // friends),
    ]
    return question, steps, "plants"


def _savings(rng: random.Random, name: str) -> tuple[str, list[Step], str]:
    part = rng.choice((2, 3, 4, 5))
    weekly, weeks = part * rng.randint(2, 20), rng.randint(3, 12)
    saved = weekly * weeks
    spent = saved // part
    question = (
        f"{name} saves ${weekly} every week for {weeks} weeks. Then {name} spends 1/{part} of the savings "
        "on a gift. How many dollars does " + name + " have left?"
    )
    steps = [
        (f"{name} saved", f"{weekly}*{weeks}", saved),
        ("The gift costs", f"{saved}/{part}", spent),
        (f"{name} has left", f"{saved}-{spent}", saved - spent),
    ]
    return question, steps, "dollars"


def _pages(rng: random.Random, name: str) -> tuple[str, list[Step], str]:
    per_day, days, extra = rng.randint(5, 40), rng.randint(2, 8), rng.randint(3, 30)
    read = per_day * days
    total_read = read + extra
    pages = total_read + rng.randint(10, 200)
    question = (
        f"A book has {pages} pages. {name} reads {per_day} pages a day for {days} days and then {extra} "
        f"more pages on the weekend. How many pages does {name} still have to read?"
    )
    steps = [
        (f"In {days} days {name} reads", f"{per_day}*{days}", read),
        ("With the weekend that makes", f"{read}+{extra}", total_read),
        (f"{name} still has to read", f"{pages}-{total_read}", pages - total_read),
    ]
    return question, steps, "pages"


def _bakery(rng: random.Random, name: str) -> tuple[str, list[Step], str]:
    box, boxes_per_batch, batches = rng.randint(4, 12), rng.randint(2, 6), rng.randint(2, 9)
    price = rng.randint(3, 20)
    per_batch = box * boxes_per_batch
    cookies = batches * per_batch
    boxes = cookies // box
    question = (
        f"{name} bakes {batches} batches of {per_batch} cookies and packs them in boxes of {box}. "
        f"Each box sells for ${price}. How many dollars does {name} make by selling all the boxes?"
    )
    steps = [
        (f"{name} bakes", f"{batches}*{per_batch}", cookies),
        ("That fills", f"{cookies}/{box}", boxes),
        (f"{name} makes", f"{boxes}*{price}", boxes * price),
    ]
    return question, steps, "dollars"


def _ages(rng: random.Random, name: str) -> tuple[str, list[Step], str]:
    age, older, times = rng.randint(4, 15), rng.randint(2, 9), rng.randint(3, 5)
    brother = age + older
    parent = age * times
    question = (
        f"{name} is {age} years old. {name}'s brother is {older} years older, and their mother is {times} "
        f"times as old as {name}. What is the sum of the three ages?"
    )
    steps = [
        ("The brother is", f"{age}+{older}", brother),
        ("The mother is", f"{age}*{times}", parent),
        ("The sum of the ages is", f"{age}+{brother}+{parent}", age + brother + parent),
    ]
    return question, steps, "years"


TEMPLATES: tuple[Template, ...] = (_half_as_many, _wages, _change, _garden, _savings, _pages, _bakery, _ages)


def _answer(steps: list[Step]) -> str:
    lines = [f"{text} {expr} = <<{expr}={value}>>{value}." for text, expr, value in steps]
    return "\n".join([*lines, f"#### {steps[-1][2]}"])


def make_problem(seed: int, attempt: int) -> tuple[str, str, int]:
    """Candidate ``attempt`` of the stream for ``seed``: ``(question, answer, difficulty)``."""
    rng = random.Random(f"bedrock-rft-synthetic:{seed}:{attempt}")
    template = rng.choice(TEMPLATES)
    question, steps, _unit = template(rng, rng.choice(NAMES))
    return question, _answer(steps), len(steps)


def generate(n: int, seed: int = 0) -> Iterator[dict[str, Any]]:
    """Yield ``n`` distinct problems for ``seed`` (deterministic, offline; GSM8K raw shape + id)."""
    if n < 0:
        raise ValueError(f"n = {n} is negative; expected a count >= 0")
    seen: set[int] = set()
    attempt = 0
    while len(seen) < n:
        question, answer, difficulty = make_problem(seed, attempt)
        attempt += 1
        key = int.from_bytes(hashlib.blake2b(question.encode(), digest_size=8).digest(), "big")
        if key in seen:
            continue
        yield {
            "id": f"synthetic-{seed}-{len(seen):07d}",
            "question": question,
            "answer": answer,
            "difficulty": difficulty,
        }
        seen.add(key)
