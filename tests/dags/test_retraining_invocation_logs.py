"""The retraining DAG's ``invocation_logs`` param: set, the job trains on the logs (not the prepared
file) and the champion record names no training file; empty (the default), nothing changes.
(``make e2e`` scenario 14 runs it on the real services.)"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from bedrock_rft_provider.jobs.invocation_logs import InvocationLogSource
from unit.test_readme_open_weight import readme_trigger_confs

PREPARED = {
    "train_uri": "s3://b/datasets/f/train.jsonl",
    "validation_uri": "s3://b/datasets/f/validation.jsonl",
    "test_uri": "s3://b/datasets/f/test.jsonl",
}
LOGS = {
    "s3_uri": "s3://logs/bedrock/AWSLogs/123456789012/BedrockModelInvocationLogs/",
    "request_metadata_filters": {"equals": {"app": "tutor"}},
}


class PullingTI:
    def xcom_pull(self, task_ids: str, key: str = "return_value") -> Any:
        return PREPARED if (task_ids, key) == ("prepare_dataset", "return_value") else None


def _render(dag: Any, template: Any, invocation_logs: dict[str, Any]) -> Any:
    env = dag.get_template_env()
    return env.from_string(template).render(ti=PullingTI(), params={"invocation_logs": invocation_logs})


@pytest.mark.parametrize(
    ("invocation_logs", "training_file"), [({}, PREPARED["train_uri"]), (LOGS, "")], ids=["default", "logs"]
)
def test_the_job_trains_on_the_logs_or_the_prepared_file(
    dagbag: Any, invocation_logs: dict[str, Any], training_file: str
) -> None:
    dag = dagbag.get_dag("bedrock_rft_retraining")
    train, promote = dag.get_task("train"), dag.get_task("promote")
    assert _render(dag, train.training_data_uri, invocation_logs) == training_file
    assert _render(dag, train.invocation_logs, invocation_logs) == invocation_logs
    assert _render(dag, promote.dataset_uris["train"], invocation_logs) == training_file
    assert _render(dag, train.validation_data_uri, invocation_logs) == PREPARED["validation_uri"]


def test_the_readme_trigger_conf_is_a_valid_param_and_log_source(dagbag: Any) -> None:
    (conf,) = [c for c in readme_trigger_confs("bedrock_rft_retraining") if "invocation_logs" in c]
    params = copy.deepcopy(dagbag.get_dag("bedrock_rft_retraining").params)
    params.update(conf)
    validated = params.validate()  # raises naming the param that does not fit
    source = InvocationLogSource.from_mapping(validated["invocation_logs"])
    assert source.s3_uri.endswith("/BedrockModelInvocationLogs/") and source.request_metadata_filters
