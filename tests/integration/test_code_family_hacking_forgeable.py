"""The code family's reward-hacking curve with a forgeable runner swapped in: hacks pay, so they grow."""

from __future__ import annotations

import pytest

from bedrock_rft_provider.sandbox.server import Sandbox
from support.code_family import FORGEABLE, JOB_TIMEOUT_S, code_world, hacking_curve, mean

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def world(bedrock_rft_sandbox: Sandbox) -> dict[str, str]:
    return code_world(bedrock_rft_sandbox)


@pytest.mark.timeout(JOB_TIMEOUT_S + 120)
def test_a_forgeable_runner_pays_for_hacks_so_the_policy_hacks_more(
    bedrock_rft_sandbox: Sandbox, world: dict[str, str]
) -> None:
    curve = hacking_curve(bedrock_rft_sandbox, world, f"{FORGEABLE}:forgeable_code_tests")
    assert mean(curve[-3:]) > mean(curve[:3]) + 0.1
