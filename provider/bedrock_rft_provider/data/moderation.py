"""Seeded, labelled content-moderation records: short user posts, a policy label and the reason for it.

GENERATED, not collected: each post is a template from :data:`TEMPLATES` filled with seeded names,
places and products, and carries the label and policy rule its template was written for (``allow``,
``flag`` for human review, ``remove``). The labels are right by construction, so the set is honest
to train and calibrate a judge on; it is not a sample of real traffic. No real person, handle or phone
number appears (phone numbers use the reserved 555-01xx range).

Record shape (an RFT record, see ``data/records.py``)::

    {"id": "moderation-<seed>-<n>", "messages": [system: POLICY, user: "Post: ...\\n\\n<instruction>"],
     "reference_answer": "remove", "task_family": "judge", "policy_rule": "R1 threats", "reason": "..."}
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator
from typing import Any

POLICY = """You moderate posts on a community forum under this policy.
R1 threats: threats of violence against a person or group -> remove.
R2 doxxing: sharing someone's private address, phone number or workplace without consent -> remove.
R3 scams: requests for money, gift cards or credentials with false promises -> remove.
R4 harassment: insults aimed at a specific person -> flag for human review.
R5 health claims: unverified medical claims that could cause harm -> flag for human review.
R6 unverified accusations: naming a person as guilty of a crime without evidence -> flag.
Everything else, including criticism of products, ideas or public policy, is allowed."""

INSTRUCTION = (
    "Classify this post under the policy. Answer with a first line 'Label: allow', 'Label: flag' or "
    "'Label: remove', then one sentence of justification that names the rule."
)

# (label, rule, reason, template); templates use {name}, {place}, {product}, {food}, {time}, {number}.
TEMPLATES: tuple[tuple[str, str, str, str], ...] = (
    (
        "remove",
        "R1 threats",
        "It threatens violence against a person (R1).",
        "If {name} shows up at {place} {time} I will hurt them badly.",
    ),
    (
        "remove",
        "R1 threats",
        "It threatens violence against a person (R1).",
        "Somebody should teach {name} a lesson with a baseball bat at {place} {time}.",
    ),
    (
        "remove",
        "R2 doxxing",
        "It shares a person's private address or phone number (R2).",
        "{name} lives at {number} Elm Street near {place}, go tell them what you think.",
    ),
    (
        "remove",
        "R2 doxxing",
        "It shares a person's private address or phone number (R2).",
        "Here is {name}'s cell, 555-01{number:02d}, call them all night about the {product} refund.",
    ),
    (
        "remove",
        "R3 scams",
        "It asks for money or credentials with a false promise (R3).",
        "Send me {number} dollars in gift cards and I will mail you a free {product} from {place}.",
    ),
    (
        "remove",
        "R3 scams",
        "It asks for money or credentials with a false promise (R3).",
        "Your {product} account is locked, reply with your password to {name} at the {place} help desk.",
    ),
    (
        "flag",
        "R4 harassment",
        "It insults a specific person and needs review (R4).",
        "{name} is the most useless person at {place}, ask anyone who met them {time}.",
    ),
    (
        "flag",
        "R4 harassment",
        "It insults a specific person and needs review (R4).",
        "Nobody at {place} can stand {name}, what a pathetic clown with that {product}.",
    ),
    (
        "flag",
        "R5 health claims",
        "It makes an unverified medical claim that could cause harm (R5).",
        "Eating {food} every day cured my diabetes, skip your insulin like I did, says {name} from {place}.",
    ),
    (
        "flag",
        "R5 health claims",
        "It makes an unverified medical claim that could cause harm (R5).",
        "{name} from {place} told me {food} water stops infections better than antibiotics.",
    ),
    (
        "flag",
        "R6 unverified accusations",
        "It accuses a named person of a crime without evidence (R6).",
        "I am sure {name} stole the {product} from the {place} office, they are a thief.",
    ),
    (
        "flag",
        "R6 unverified accusations",
        "It accuses a named person of a crime without evidence (R6).",
        "Everyone knows {name} sells fake {product}s out of {place}, arrest them.",
    ),
    (
        "allow",
        "none",
        "It is ordinary speech that breaks no rule.",
        "Does anyone know if the {product} repair shop near {place} is open {time}?",
    ),
    (
        "allow",
        "none",
        "It criticises a product, which the policy allows.",
        "The new {product} is overpriced and the battery dies in {number} hours, really disappointing.",
    ),
    (
        "allow",
        "none",
        "It is ordinary speech that breaks no rule.",
        "Thanks {name} for the {food} recipe, I made it for {number} people at {place}.",
    ),
    (
        "allow",
        "none",
        "It disagrees with a public policy, which the policy allows.",
        "{name} and I think the council's plan for {place} is a mistake, we will vote against it {time}.",
    ),
    (
        "allow",
        "none",
        "It is ordinary speech that breaks no rule.",
        "{name} and I are organising a {food} picnic at {place}, bring a friend.",
    ),
    (
        "allow",
        "none",
        "It criticises a product, which the policy allows.",
        "Honest review: the {product} from {place} broke after {number} days, I want a refund.",
    ),
)

NAMES = (
    "Alex",
    "Sam",
    "Jordan",
    "Riley",
    "Casey",
    "Morgan",
    "Taylor",
    "Jamie",
    "Robin",
    "Drew",
    "Avery",
    "Quinn",
)
PLACES = (
    "the library",
    "Maple Park",
    "the gym",
    "the north office",
    "the farmers market",
    "Pine Street",
    "the community center",
    "the bus depot",
    "the school fair",
    "the harbour",
)
PRODUCTS = ("phone", "laptop", "kettle", "bike", "headset", "camera", "blender", "tablet")
TIMES = ("tonight", "tomorrow", "on Monday", "this weekend", "after work", "next week")
FOODS = ("garlic", "lemon", "ginger", "turmeric", "apple cider", "honey")


# The templates with their labels interleaved (remove, flag, allow, remove, ...): any prefix of the
# records is balanced, so a small calibration or evaluation slice sees every label.
_INTERLEAVED = tuple(
    template
    for group in itertools.zip_longest(
        *(tuple(t for t in TEMPLATES if t[0] == label) for label in ("remove", "flag", "allow"))
    )
    for template in group
    if template is not None
)


def _post(template: str, rng: random.Random) -> str:
    return template.format(
        name=rng.choice(NAMES),
        place=rng.choice(PLACES),
        product=rng.choice(PRODUCTS),
        food=rng.choice(FOODS),
        time=rng.choice(TIMES),
        number=rng.randrange(2, 99),
    )


def to_rft_record(post: str, label: str, rule: str, reason: str, record_id: str) -> dict[str, Any]:
    """One RFT record asking for the label of ``post`` (see the module docstring for its shape)."""
    return {
        "id": record_id,
        "messages": [
            {"role": "system", "content": POLICY},
            {"role": "user", "content": f"Post: {post}\n\n{INSTRUCTION}"},
        ],
        "reference_answer": label,
        "task_family": "judge",
        "policy_rule": rule,
        "reason": reason,
    }


def generate(count: int, seed: int = 0) -> Iterator[dict[str, Any]]:
    """``count`` distinct labelled records, the same for the same ``seed``; labels take turns.

    Raises ValueError when ``count`` exceeds the distinct posts the templates can make (far above the
    service's 20,000-record limit).
    """
    seen: set[str] = set()
    rng = random.Random(f"bedrock-rft-moderation:{seed}")
    templates = itertools.cycle(_INTERLEAVED)
    misses = 0
    while len(seen) < count:
        label, rule, reason, template = next(templates)
        # A few draws per turn keep the labels balanced when one template's fillers start repeating.
        post = next((p for p in (_post(template, rng) for _ in range(20)) if p not in seen), None)
        if post is None:
            misses += 1
            if misses > 10 * len(_INTERLEAVED):
                raise ValueError(f"cannot make {count} distinct moderation posts (made {len(seen)})")
            continue
        misses = 0
        seen.add(post)
        yield to_rft_record(post, label, rule, reason, f"moderation-{seed}-{len(seen):07d}")
