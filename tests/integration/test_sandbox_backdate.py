"""Backdating champion history (demo-only sandbox helper) must never corrupt the sandbox's SSM.

Found by running ``make demo`` from a clean clone: the gate rejected, so no champion parameter existed;
backdating it created an empty version list in moto, and the demo's next GetParameter got a 500 (and
the demo a traceback) instead of ParameterNotFound.
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from bedrock_rft_provider.sandbox.moto_state import backdate_parameter_versions
from bedrock_rft_provider.sandbox.server import Sandbox

pytestmark = pytest.mark.integration


def test_backdating_a_missing_parameter_changes_nothing(bedrock_rft_sandbox: Sandbox) -> None:
    name = "/bedrock-rft/champion/never-promoted-backdate-test"
    ssm = bedrock_rft_sandbox.client("ssm")

    assert backdate_parameter_versions(name, lambda version: datetime(2026, 1, 1, tzinfo=timezone.utc)) == []

    with pytest.raises(ssm.exceptions.ParameterNotFound):
        ssm.get_parameter(Name=name)


def test_backdating_an_existing_parameter_moves_its_versions(bedrock_rft_sandbox: Sandbox) -> None:
    name = "/bedrock-rft/champion/backdate-test"
    ssm = bedrock_rft_sandbox.client("ssm")
    ssm.put_parameter(Name=name, Value="{}", Type="String", Overwrite=True)
    when = datetime(2026, 1, 1, 12, tzinfo=timezone.utc)

    assert backdate_parameter_versions(name, lambda version: when) == [1]
    assert ssm.get_parameter(Name=name)["Parameter"]["LastModifiedDate"] == when
