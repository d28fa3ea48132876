"""The retraining DAG's task logic, run without Airflow: fake hooks record what the tasks would do."""

from __future__ import annotations

import json
import sys
from datetime import datetime, timezone
from typing import Any

import pytest

from bedrock_rft_provider.dag_tasks import retraining
from bedrock_rft_provider.errors import BedrockRFTError
from bedrock_rft_provider.evaluation.champion import ChampionVersion
from bedrock_rft_provider.jobs.metrics import TrainingMetrics
from bedrock_rft_provider.triggers.job_events import QUEUE_URL_ENV

PARAMS: dict[str, Any] = {
    "min_improvement": 0.0,
    "min_eval_samples": 1,
    "gate_guards": {},
    "baseline_skip_above": 0.95,
    "baseline_skip_below": 0.02,
    "completion": "poll",
    "bucket": "b",
    "model_family": "fam",
    "reward": "pkg.mod:train_reward",
    "evaluation_reward": "",
    "eval_concurrency": 4,
    "sandbox": True,
    "base_model_id": "amazon.nova-2-lite-v1:0:256k",
    "health_policy": "warn",
    "test_data_uri": "ignored: the run's own split wins",
}
OUTPUT_URI = "s3://b/retraining/run/rft-output/"


class FakeBedrock:
    def __init__(self, metrics: TrainingMetrics | None = None) -> None:
        self.metrics = metrics or TrainingMetrics()
        self.described: list[str] = []

    def describe_job(self, identifier: str) -> dict[str, Any]:
        self.described.append(identifier)
        return {"jobName": "rft-a", "outputDataConfig": {"s3Uri": OUTPUT_URI}}

    def read_training_metrics(self, job: dict[str, Any]) -> TrainingMetrics:
        assert job["jobName"] == "rft-a"
        return self.metrics


class FakeStorage:
    def __init__(self) -> None:
        self.files: dict[str, str] = {}

    def write_text(self, uri: str, text: str) -> None:
        self.files[uri] = text


class FakeChampions:
    def __init__(self, record: dict[str, Any] | None = None, version: int = 3) -> None:
        self.champion = (
            ChampionVersion(version, datetime(2026, 1, 1, tzinfo=timezone.utc), record)
            if record is not None
            else None
        )
        self.families: list[str] = []

    def current(self, family: str) -> ChampionVersion | None:
        self.families.append(family)
        return self.champion


def _metrics(rewards: list[float]) -> TrainingMetrics:
    metrics = TrainingMetrics()
    metrics.series["critic/rewards/mean"] = list(enumerate(rewards, 1))
    return metrics


@pytest.mark.parametrize(("mean", "train"), [(0.5, True), (0.97, False), (0.01, False)])
def test_worth_training_follows_the_baseline_bounds(mean: float, train: bool, capsys: Any) -> None:
    assert retraining.worth_training({"mean_reward": mean}, PARAMS) is train
    assert ("Training:" in capsys.readouterr().out) is train


def test_worth_training_refuses_a_bad_gate_policy_before_training() -> None:
    with pytest.raises(BedrockRFTError, match="min_samples"):
        retraining.worth_training({"mean_reward": 0.5}, {**PARAMS, "min_eval_samples": 0})


def test_handover_carries_the_evaluation_reward_and_the_runs_test_split() -> None:
    handed = retraining.handover({**PARAMS, "evaluation_reward": "pkg.mod:verifiable"}, "s3://b/test.jsonl")
    assert handed["reward"] == "pkg.mod:verifiable"
    assert handed["test_data_uri"] == "s3://b/test.jsonl"
    assert handed["model_family"] == "fam"
    assert "completion" not in handed and "base_model_id" not in handed  # only the post-training params
    assert retraining.handover(PARAMS, "")["reward"] == "pkg.mod:train_reward"


@pytest.mark.parametrize("status", ["Failed", "Stopped"])
def test_completes_here_fails_a_job_that_ended_badly(status: str) -> None:
    with pytest.raises(RuntimeError, match=f"rft-a is {status}"):
        retraining.completes_here({"job_name": "rft-a", "status": status}, PARAMS, None)


def test_completes_here_goes_on_when_polling(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(QUEUE_URL_ENV, "https://sqs.example/q")
    bedrock, storage = FakeBedrock(), FakeStorage()
    job = {"job_name": "rft-a", "job_arn": "arn:j", "status": "InProgress"}
    assert retraining.completes_here(job, PARAMS, None, bedrock=bedrock, storage=storage)
    assert storage.files == {} and bedrock.described == []


def test_completes_here_hands_a_training_job_over_on_the_event_path(
    monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    monkeypatch.setenv(QUEUE_URL_ENV, "https://sqs.example/q")
    bedrock, storage = FakeBedrock(), FakeStorage()
    job = {"job_name": "rft-a", "job_arn": "arn:j", "status": "InProgress"}
    params = {**PARAMS, "completion": "event"}
    prepared = {"test_uri": "s3://b/datasets/test.jsonl"}
    assert not retraining.completes_here(job, params, prepared, bedrock=bedrock, storage=storage)
    assert bedrock.described == ["arn:j"]
    stored = json.loads(storage.files[OUTPUT_URI + "post-training-params.json"])
    assert stored["test_data_uri"] == "s3://b/datasets/test.jsonl" and stored["model_family"] == "fam"
    assert "bedrock_rft_post_training takes over when it completes, in family fam" in capsys.readouterr().out


def test_completes_here_evaluates_an_already_completed_job_on_the_event_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(QUEUE_URL_ENV, "https://sqs.example/q")
    storage = FakeStorage()
    job = {"job_name": "rft-a", "job_arn": "arn:j", "status": "Completed"}
    assert retraining.completes_here(job, {**PARAMS, "completion": "event"}, None, storage=storage)
    assert storage.files == {}


def test_completes_here_says_the_event_path_is_not_set_up(
    monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    monkeypatch.delenv(QUEUE_URL_ENV, raising=False)
    job = {"job_name": "rft-a", "job_arn": "arn:j", "status": "Completed"}
    assert retraining.completes_here(job, {**PARAMS, "completion": "event"}, None)
    assert f"{QUEUE_URL_ENV} is not set" in capsys.readouterr().out


def test_training_health_passes_a_learning_run_and_fails_a_flat_one_under_fail() -> None:
    job = {"job_name": "rft-a", "backend": "native"}
    healthy = FakeBedrock(_metrics([0.2, 0.3, 0.4, 0.5, 0.6, 0.7]))
    report = retraining.training_health(job, PARAMS, bedrock=healthy)
    assert report["findings"] == []
    flat = FakeBedrock(_metrics([0.3, 0.3, 0.3, 0.3, 0.3, 0.3]))
    assert retraining.training_health(job, PARAMS, bedrock=flat)["findings"]
    with pytest.raises(RuntimeError, match="training health check failed"):
        retraining.training_health(job, {**PARAMS, "health_policy": "fail"}, bedrock=flat)


def test_training_health_reads_an_open_weight_job_by_its_id() -> None:
    class FakeOpenWeight:
        def read_training_metrics(self, job_id: str) -> TrainingMetrics:
            assert job_id == "ftjob-1"
            return _metrics([0.2, 0.3, 0.4, 0.5, 0.6, 0.7])

    job = {"job_id": "ftjob-1", "backend": "open-weight"}
    assert retraining.training_health(job, PARAMS, open_weight=FakeOpenWeight())["findings"] == []


def test_deployment_needed_skips_the_deployment_of_an_open_weight_model() -> None:
    assert retraining.deployment_needed({"backend": "native"}) == "deploy_tuned"
    assert (
        retraining.deployment_needed({"backend": "open-weight", "fine_tuned_model": "ft:x"}) == "tuned_model"
    )


def test_current_champion_is_the_base_model_without_a_champion() -> None:
    model, version = retraining.current_champion(PARAMS, champions=FakeChampions())
    assert (model, version) == ("amazon.nova-2-lite-v1:0:256k", 0)


def test_current_champion_is_its_deployment_or_its_open_weight_model() -> None:
    nova = FakeChampions({"deployment_arn": "arn:dep", "model_id": "arn:dep"}, version=3)
    assert retraining.current_champion(PARAMS, champions=nova) == ("arn:dep", 3)
    open_weight = FakeChampions({"deployment_arn": "", "model_id": "ft:qwen:x"}, version=5)
    params = {**PARAMS, "base_model_id": "qwen.qwen3-32b"}
    assert retraining.current_champion(params, champions=open_weight) == ("ft:qwen:x", 5)
    # A Nova run never compares with a bare model id recorded without a deployment.
    assert retraining.current_champion(PARAMS, champions=open_weight)[0] == PARAMS["base_model_id"]


def test_deployment_to_tear_down_keeps_the_champions_deployment() -> None:
    champions = FakeChampions({"deployment_arn": "arn:dep"})
    assert retraining.deployment_to_tear_down("arn:dep", "fam", champions=champions) == ""
    assert retraining.deployment_to_tear_down("arn:other", "fam", champions=champions) == "arn:other"
    assert retraining.deployment_to_tear_down(None, "fam", champions=champions) == ""
    assert champions.families == ["fam", "fam"]  # no deployment: no champion lookup


@pytest.mark.parametrize(
    ("decision", "version", "verdict"),
    [
        (None, None, "training skipped (see worth_training)"),
        ({"promote": False}, None, "rejected; champion unchanged"),
        ({"promote": True}, None, "not approved (rejected or timed out); champion unchanged"),
        ({"promote": True}, 4, "promoted"),
    ],
)
def test_outcome(decision: dict[str, Any] | None, version: int | None, verdict: str, capsys: Any) -> None:
    assert retraining.outcome(decision, version) == verdict
    assert capsys.readouterr().out == f"Retraining outcome: {verdict}\n"


def test_the_task_logic_imports_no_airflow() -> None:
    """The functions above ran without Airflow: the module (bar training_spend's lazy import) needs none."""
    assert retraining.__name__ in sys.modules
    assert not any(name == "airflow" or name.startswith("airflow.") for name in _imports_of_a_fresh_import())


def _imports_of_a_fresh_import() -> list[str]:
    import subprocess

    code = (
        "import sys, bedrock_rft_provider.dag_tasks.retraining, bedrock_rft_provider.dag_tasks.post_training;"
    )
    code += "print('\\n'.join(sys.modules))"
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
