"""The caller policy allows every call the open-weight client makes (recorded on the fake API)."""

from __future__ import annotations

import re

from bedrock_rft_provider.iam import policy_bundle
from tests.support.airflow_context import make_context
from tests.support.openweight_fake import FakeOpenWeightAPI
from tests.unit.openweight.test_client import _operator

# HTTP route -> IAM action (Service Authorization Reference, "Amazon Bedrock Powered by AWS Mantle").
# Events and checkpoints have no action of their own there: GetFineTuningJob is assumed (unverified).
ROUTES = [
    ("GET", r"/files", "bedrock-mantle:ListFiles"),
    ("POST", r"/files", "bedrock-mantle:CreateFile"),
    ("GET", r"/fine_tuning/jobs", "bedrock-mantle:ListFineTuningJobs"),
    ("POST", r"/fine_tuning/jobs", "bedrock-mantle:CreateFineTuningJob"),
    ("GET", r"/fine_tuning/jobs/[^/]+(/events|/checkpoints)?", "bedrock-mantle:GetFineTuningJob"),
    ("POST", r"/fine_tuning/jobs/[^/]+/cancel", "bedrock-mantle:CancelFineTuningJob"),
]


def _action(method: str, path: str) -> str:
    return next(action for m, pattern, action in ROUTES if m == method and re.fullmatch(pattern, path))


def test_every_open_weight_call_is_allowed_and_create_only_for_open_weight_models(
    openweight_api: FakeOpenWeightAPI, monkeypatch
) -> None:
    from bedrock_rft_provider.hooks.openweight import BedrockOpenWeightHook

    monkeypatch.setattr("bedrock_rft_provider.triggers.kill_reason.current_task_state", lambda ti: "failed")
    operator = _operator()
    job = operator.execute(make_context())
    hook = BedrockOpenWeightHook(aws_conn_id=None, region_name="us-west-2")
    hook.events_since(job["job_id"], None)
    hook.checkpoints(job["job_id"])
    operator.on_kill()
    called = {_action(m, p) for m, p, _ in openweight_api.requests}
    assert "bedrock-mantle:CancelFineTuningJob" in called

    statements = policy_bundle(
        bucket="my-rft-bucket", reward_function="grader", region="us-west-2", open_weight=True
    )["airflow_caller"]["permissions_policy"]["Statement"]
    allowed = {a for s in statements for a in s["Action"] if a.startswith("bedrock-mantle:")}
    assert called <= allowed
    assert "bedrock-mantle:CallWithBearerToken" in allowed  # the SDK authenticates with an API key
    default = policy_bundle(bucket="my-rft-bucket", reward_function="grader")["airflow_caller"]
    assert "bedrock-mantle" not in str(default)  # a Nova-only setup is not granted the open-weight API
    create = next(s for s in statements if "bedrock-mantle:CreateFineTuningJob" in s["Action"])
    assert create["Condition"]["StringEquals"]["bedrock-mantle:Model"] == [
        "openai.gpt-oss-20b",
        "qwen.qwen3-32b",
        "nvidia.nemotron-nano-3-30b",
    ]
