"""In-memory Bedrock deployments behind the real deployment hook, and the real champion hook on moto SSM."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from botocore.exceptions import ClientError
from moto import mock_aws

from bedrock_rft_provider.hooks.champion import BedrockRFTChampionHook
from bedrock_rft_provider.hooks.champion_serving import ChampionServing
from bedrock_rft_provider.hooks.deployment import BedrockCustomModelDeploymentHook
from support.champion_records import record_maker

BASE = "arn:aws:bedrock:us-east-1:123456789012:custom-model/amazon.nova-2-lite-v1:0:256k"
MODEL_A, MODEL_B, MODEL_C = (f"{BASE}/{c * 12}" for c in "abc")
OTHER_BASE_MODEL = "arn:aws:bedrock:us-east-1:123456789012:custom-model/amazon.nova-2-lite-v1:0/dddddddddddd"


def _error(code: str, message: str, operation: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, operation)


class FakeBedrock:
    """The deployment calls of a Bedrock client: updates land at once; another base model is refused."""

    def __init__(self) -> None:
        self.deployments: dict[str, dict[str, Any]] = {}
        self.calls: list[tuple[str, str]] = []
        self.after_update: Any = None  # called after an accepted update (e.g. to race another one in)

    def add(self, name: str, model_arn: str, status: str = "Active") -> str:
        arn = f"arn:aws:bedrock:us-east-1:123456789012:custom-model-deployment/{name}"
        self.deployments[arn] = {"customModelDeploymentArn": arn, "modelArn": model_arn, "status": status}
        return arn

    def get_custom_model_deployment(self, customModelDeploymentIdentifier: str) -> dict[str, Any]:
        found = self.deployments.get(customModelDeploymentIdentifier)
        if found is None:
            raise _error("ResourceNotFoundException", "no such deployment", "GetCustomModelDeployment")
        return dict(found)

    def update_custom_model_deployment(self, customModelDeploymentIdentifier: str, modelArn: str) -> dict:
        self.calls.append(("update", customModelDeploymentIdentifier))
        found = self.deployments.get(customModelDeploymentIdentifier)
        if found is None:
            raise _error("ResourceNotFoundException", "no such deployment", "UpdateCustomModelDeployment")
        if modelArn.rsplit("/", 1)[0] != found["modelArn"].rsplit("/", 1)[0]:
            raise _error("ValidationException", "another base model", "UpdateCustomModelDeployment")
        if (found.get("updateDetails") or {}).get("updateStatus") == "Updating":
            raise _error("ValidationException", "is being updated", "UpdateCustomModelDeployment")
        found.update(
            modelArn=modelArn, updateDetails={"modelArn": modelArn, "updateStatus": "UpdateCompleted"}
        )
        if self.after_update is not None:
            self.after_update(found)
        return {"customModelDeploymentArn": customModelDeploymentIdentifier}

    def delete_custom_model_deployment(self, customModelDeploymentIdentifier: str) -> dict:
        self.calls.append(("delete", customModelDeploymentIdentifier))
        if self.deployments.pop(customModelDeploymentIdentifier, None) is None:
            raise _error("ResourceNotFoundException", "no such deployment", "DeleteCustomModelDeployment")
        return {}


class FakeDeploymentHook(BedrockCustomModelDeploymentHook):
    """The real hook's logic on a FakeBedrock client."""

    def __init__(self, bedrock: FakeBedrock) -> None:
        super().__init__(aws_conn_id=None, region_name="us-east-1")
        self.fake = bedrock

    @property
    def conn(self) -> Any:  # type: ignore[override]
        return self.fake


@contextmanager
def serving_world() -> Iterator[tuple[ChampionServing, FakeBedrock]]:
    """A ChampionServing on moto SSM and a FakeBedrock (no waits: updates land at once)."""
    with mock_aws():
        bedrock = FakeBedrock()
        champions = BedrockRFTChampionHook(aws_conn_id=None, region_name="us-east-1")
        yield (
            ChampionServing(champions, FakeDeploymentHook(bedrock), waiter_delay=0, waiter_max_attempts=1),
            bedrock,
        )


def maker(model_arn: str, run_id: str, family: str = "gsm8k") -> Any:
    """``make_record`` for ChampionServing.promote."""
    return record_maker(family, model_arn, run_id)
