"""Hypothesis: whatever JSON-ish event arrives, the handler never raises and answers every sample."""

from __future__ import annotations

import math
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bedrock_rft_provider.rewards import check_results, make_handler
from bedrock_rft_provider.rewards.builtin import composite, exact_match, json_match, math_answer, regex_match
from bedrock_rft_provider.rewards.contract import samples_of

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
text_with_numbers = st.text(
    alphabet=st.sampled_from(list("0123456789 .,-+$%/#\\{}boxed answer is:\n=*")), max_size=60
)
content = (
    text_with_numbers
    | st.lists(st.fixed_dictionaries({"type": st.just("text"), "text": text_with_numbers}), max_size=3)
    | json_values
)
message = st.fixed_dictionaries(
    {"role": st.sampled_from(["user", "assistant", "nova_assistant", "system", 7]), "content": content}
)
sample = st.fixed_dictionaries(
    {},
    optional={
        "id": st.text(max_size=8) | st.integers() | json_values,
        "messages": st.lists(message, max_size=4) | json_values,
        "metadata": st.fixed_dictionaries({}, optional={"reference_answer": json_values | text_with_numbers})
        | json_values,
        "reference_answer": json_values | text_with_numbers,
    },
)
events = st.lists(sample | json_values, max_size=6) | json_values
HANDLERS = [make_handler(fn) for fn in (math_answer, exact_match, regex_match, json_match)]
HANDLERS.append(make_handler(composite({math_answer: 1.0, json_match: 1.0})))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(event=events)
def test_handler_never_raises_and_scores_every_sample(event: Any) -> None:
    expected = samples_of(event)
    for handler in HANDLERS:
        results = handler(event, None)
        assert len(results) == len(expected)
        assert check_results(expected, results) == []
        assert all(math.isfinite(r["aggregate_reward_score"]) for r in results)
