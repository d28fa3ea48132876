"""Record every AWS call a test makes and check `bedrock-rft iam-policy`'s caller policy allows each.

The list of calls is not written by hand: the example DAGs run end to end on the sandbox while every
boto3/aiobotocore call made in this process (tasks, sensors, triggers) is recorded.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from bedrock_rft_provider import demo
from bedrock_rft_provider.iam import policy_bundle
from unit.test_iam_policy import NEEDS_NO_PERMISSION, allows, iam_action


@contextmanager
def recording_calls(calls: set[tuple[str, str]]) -> Iterator[set[tuple[str, str]]]:
    """Add (signing name, operation) of every boto3 and aiobotocore call inside the block to ``calls``.

    Only the block is recorded: the test's own checks afterwards (list, get) are not the DAGs' calls.
    """
    from aiobotocore.client import AioBaseClient
    from botocore.client import BaseClient

    sync_call, async_call = BaseClient._make_api_call, AioBaseClient._make_api_call

    def record(client: Any, operation: str) -> None:
        model = client.meta.service_model
        calls.add((model.signing_name or model.endpoint_prefix, operation))

    def recording(self: Any, operation_name: str, api_params: Any) -> Any:
        record(self, operation_name)
        return sync_call(self, operation_name, api_params)

    async def recording_async(self: Any, operation_name: str, api_params: Any) -> Any:
        record(self, operation_name)
        return await async_call(self, operation_name, api_params)

    BaseClient._make_api_call, AioBaseClient._make_api_call = recording, recording_async  # type: ignore[method-assign]
    try:
        yield calls
    finally:
        BaseClient._make_api_call, AioBaseClient._make_api_call = sync_call, async_call  # type: ignore[method-assign]


def assert_caller_policy_allows(calls: set[tuple[str, str]], *, seen: set[str]) -> None:
    """Every recorded call is allowed by the Airflow caller policy; ``seen`` were recorded at all.

    ``seen`` guards the recorder itself: a recorder that saw nothing must not make the check pass.
    """
    policy = policy_bundle(bucket=demo.BUCKET, reward_function="gsm8k-grader")["airflow_caller"][
        "permissions_policy"
    ]
    needed = {iam_action(*call) for call in calls - NEEDS_NO_PERMISSION}
    assert seen <= needed, f"the recorder missed {sorted(seen - needed)}; recorded calls: {sorted(calls)}"
    missing = sorted(action for action in needed if not allows(policy, action))
    assert missing == [], f"the caller policy lacks {missing}; recorded calls: {sorted(calls)}"
