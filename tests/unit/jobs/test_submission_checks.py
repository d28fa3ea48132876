"""The pure checks the RFT job operator makes before it submits anything."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from bedrock_rft_provider.errors import ConfigError
from bedrock_rft_provider.jobs.backends import NATIVE, OPEN_WEIGHT
from bedrock_rft_provider.jobs.submission_checks import (
    check_submission,
    native_job_spec,
    reuse_key,
    spend_guard_with_caps,
)

NOVA = "amazon.nova-2-lite-v1:0:256k"
ROLE = "arn:aws:iam::123456789012:role/rft"
GRADER = "arn:aws:lambda:us-east-1:123456789012:function:grader"


def _check(**overrides: Any) -> Any:
    args: dict[str, Any] = {
        "base_model_id": NOVA,
        "backend": None,
        "invocation_logs": None,
        "force_retrain": False,
        "wait_for_completion": True,
        "spend_guard": None,
        "caps": {},
    }
    return check_submission(**{**args, **overrides})


def _spec(**overrides: Any) -> Any:
    args: dict[str, Any] = {
        "dag_id": "retrain",
        "run_id": "manual__1",
        "task_id": "train",
        "namespace": "af-test",
        "job_name": None,
        "custom_model_name": None,
        "tags": {"team": "ml"},
        "base_model_id": NOVA,
        "role_arn": ROLE,
        "training_data_uri": "s3://bucket/train.jsonl",
        "output_data_uri": "s3://bucket/out/",
        "reward_lambda_arn": GRADER,
    }
    return native_job_spec(**{**args, **overrides})


def test_rendered_flags_read_as_booleans_and_the_backend_follows_the_model() -> None:
    checked = _check(force_retrain="yes", wait_for_completion="False")
    assert (checked.backend, checked.force_retrain, checked.wait_for_completion) == (NATIVE, True, False)
    assert _check(base_model_id="openai.gpt-oss-20b").backend == OPEN_WEIGHT


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"force_retrain": "maybe"}, "force_retrain"),
        ({"wait_for_completion": "{{ params.wait }}"}, "wait_for_completion"),
        ({"backend": "open-weight"}, "backend"),
        (
            {"base_model_id": "openai.gpt-oss-20b", "invocation_logs": {"s3_uri": "s3://b/logs/"}},
            "invocation_logs",
        ),
        ({"spend_guard": {"max_hours": 1}}, "spend_guard"),
    ],
)
def test_a_bad_argument_names_its_field(overrides: dict[str, Any], field: str) -> None:
    with pytest.raises(ConfigError) as raised:
        _check(**overrides)
    assert field in str(raised.value)


def test_a_cap_the_guard_leaves_unset_comes_from_the_operator() -> None:
    guard = spend_guard_with_caps(
        {"max_training_hours": "2"}, {"max_training_hours": 9, "max_grader_invocations": "500"}
    )
    assert (guard.max_training_hours, guard.max_grader_invocations) == (2.0, 500)
    assert guard.active
    assert not spend_guard_with_caps(None, {"max_budget": None}).active


def test_unset_names_are_derived_from_the_run_and_stable_across_retries() -> None:
    first, again = _spec(), _spec()
    assert first.job_name == again.job_name and first.job_name.startswith("rft-retrain-train-")
    assert _spec(run_id="manual__2").job_name != first.job_name
    assert _spec(job_name="my-job").job_name == "my-job"
    assert dict(first.job_tags) == dict(first.custom_model_tags) == {"team": "ml"}


class _Inputs:
    def __init__(self, fail: bool = False) -> None:
        self.fail = fail

    def content_sha256(self, uri: str) -> str:
        if self.fail:
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "GetObject")
        return "ab" * 32

    def grader_identity(self, lambda_arn: str) -> dict[str, Any]:
        return {"code_sha256": "c0de", "handler": "h.handler"}


def test_reuse_is_off_with_a_reason_when_the_inputs_cannot_be_read() -> None:
    key, why = reuse_key(_spec(), _Inputs())
    assert key is not None and why == ""
    key, why = reuse_key(_spec(), _Inputs(fail=True))
    assert key is None and "AccessDenied" in why
