"""The code family's reward-hacking curve with the hardened grader: hacks are paid nothing, so they fade.

The forgeable-runner counterpart is in test_code_family_hacking_forgeable.py (its own file, so the two
slow trainings can run on different workers).
"""

from __future__ import annotations

import pytest

from bedrock_rft_provider.sandbox.server import Sandbox
from support.code_family import JOB_TIMEOUT_S, code_world, hacking_curve, mean

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def world(bedrock_rft_sandbox: Sandbox) -> dict[str, str]:
    return code_world(bedrock_rft_sandbox)


@pytest.mark.timeout(JOB_TIMEOUT_S + 120)
def test_the_hardened_grader_pays_nothing_for_hacks_so_the_policy_stops_trying(
    bedrock_rft_sandbox: Sandbox, world: dict[str, str]
) -> None:
    reward = "bedrock_rft_provider.rewards.builtin:code_solution"
    curve = hacking_curve(bedrock_rft_sandbox, world, reward)
    assert mean(curve[:3]) > 0.1  # the base model hacks ...
    assert mean(curve[-3:]) < mean(curve[:3]) - 0.1  # ... and unlearns it
