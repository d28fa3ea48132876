"""Open-weight core: backend choice, validation before any call, the request body, reattach choice, curves."""

from __future__ import annotations

from typing import Any

import pytest

from bedrock_rft_provider.errors import ConfigError
from bedrock_rft_provider.jobs.backends import NATIVE, OPEN_WEIGHT, choose_backend
from bedrock_rft_provider.jobs.health import assess_training
from bedrock_rft_provider.jobs.openweight import OpenWeightJobSpec, pick_job
from bedrock_rft_provider.jobs.openweight_metrics import metrics_from_events
from tests.support.openweight_contract import validate_job_create_body
from tests.unit.openweight.conftest import LAMBDA_ARN, TRAIN_URI, VALIDATION_URI


def _spec(**overrides: Any) -> OpenWeightJobSpec:
    arguments: dict[str, Any] = {
        "base_model_id": "openai.gpt-oss-20b",
        "training_data_uri": TRAIN_URI,
        "reward_lambda_arn": LAMBDA_ARN,
        "hyperparameters": {"n_epochs": 2, "batch_size": 4, "learning_rate_multiplier": 1.0},
        "namespace": "ns",
        **overrides,
    }
    return OpenWeightJobSpec.build(**arguments)


@pytest.mark.parametrize(
    ("model", "backend", "expected"),
    [
        ("amazon.nova-2-lite-v1:0:256k", None, NATIVE),
        ("openai.gpt-oss-20b", None, OPEN_WEIGHT),
        ("qwen.qwen3-32b", "auto", OPEN_WEIGHT),
        ("nvidia.nemotron-nano-3-30b", "open_weight", OPEN_WEIGHT),
        ("amazon.nova-2-pro-v1:0", None, NATIVE),  # not in the catalog: native, as before
    ],
)
def test_backend_is_chosen_from_the_model_id(model: str, backend: str | None, expected: str) -> None:
    assert choose_backend(model, backend) == expected


@pytest.mark.parametrize(
    ("model", "backend", "field"),
    [
        ("openai.gpt-oss-20b", "native", "backend"),
        ("amazon.nova-2-lite-v1:0:256k", "open-weight", "backend"),
        ("meta.llama3-8b", "open-weight", "base_model_id"),
        ("openai.gpt-oss-20b", "openai", "backend"),
    ],
)
def test_a_contradicting_backend_override_is_an_error_naming_the_field(
    model: str, backend: str, field: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        choose_backend(model, backend)
    assert raised.value.field == field


def test_the_request_body_is_valid_for_the_openai_clients_types() -> None:
    body = _spec(validation_data_uri=VALIDATION_URI).to_request(
        training_file="file-1", validation_file="file-2"
    )
    validate_job_create_body(body)
    assert body["method"]["reinforcement"]["grader"] == {"type": "lambda", "lambda": {"function": LAMBDA_ARN}}
    assert body["method"]["reinforcement"]["hyperparameters"] == {
        "n_epochs": 2,
        "batch_size": 4,
        "learning_rate_multiplier": 1.0,
    }
    assert "suffix" not in body and "metadata" not in body


def test_the_contract_check_rejects_a_body_the_openai_types_do_not_allow() -> None:
    body = _spec().to_request(training_file="file-1")
    body["method"]["reinforcement"]["hyperparameters"]["n_epochs"] = "many"
    with pytest.raises(Exception, match="n_epochs"):
        validate_job_create_body(body)


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"hyperparameters": {"n_epochs": 0}}, "hyperparameters.n_epochs", "below"),
        ({"hyperparameters": {"n_epochs": 51}}, "hyperparameters.n_epochs", "defensive"),
        ({"hyperparameters": {"batch_size": 1024}}, "hyperparameters.batch_size", "above"),
        (
            {"hyperparameters": {"learning_rate_multiplier": 0}},
            "hyperparameters.learning_rate_multiplier",
            "below",
        ),
        ({"hyperparameters": {"epoch_count": 2}}, "hyperparameters.epoch_count", "use n_epochs"),
        (
            {"hyperparameters": {"trainingSamplePerPrompt": 4}},
            "hyperparameters.trainingSamplePerPrompt",
            "Nova",
        ),
        ({"hyperparameters": {"eval_interval": 5}}, "hyperparameters.eval_interval", "Nova"),
        (
            {"hyperparameters": {"compute_multiplier": 2}},
            "hyperparameters.compute_multiplier",
            "does not document",
        ),
        ({"unsupported": {"suffix": "mine"}}, "suffix", "not supported"),
        ({"unsupported": {"kms_key_id": "alias/k"}}, "kms_key_id", "not documented"),
        ({"base_model_id": "amazon.nova-2-lite-v1:0:256k"}, "backend", "native"),
        ({"validation_data_uri": [VALIDATION_URI, VALIDATION_URI]}, "validation_data_uri", "one validation"),
        ({"reward_lambda_arn": "grader"}, "reward_lambda_arn", "Lambda"),
    ],
)
def test_bad_configuration_is_refused_naming_the_field(
    overrides: dict[str, Any], field: str, words: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        _spec(**overrides)
    assert raised.value.field == field
    assert words in str(raised.value)


def test_unset_unsupported_arguments_are_fine() -> None:
    spec = _spec(unsupported={"suffix": None, "tags": None, "job_name": None, "vpc_config": {}})
    assert spec.backend == OPEN_WEIGHT


def _job(job_id: str, status: str, training_file: str, created_at: int) -> dict[str, Any]:
    return {"id": job_id, "status": status, "training_file": training_file, "created_at": created_at}


def test_reattach_picks_the_newest_live_or_succeeded_job_on_our_files_and_never_a_failed_one() -> None:
    jobs = [
        _job("old", "succeeded", "file-1", 1),
        _job("live", "running", "file-1", 2),
        _job("failed", "failed", "file-1", 3),
        _job("other-key", "running", "file-9", 4),
    ]
    assert pick_job(jobs, ["file-1"])["id"] == "live"
    assert pick_job([_job("c", "cancelled", "file-1", 1)], ["file-1"]) is None


def _metric_events(entropy: list[float], grad_norm: list[float]) -> list[dict[str, Any]]:
    return [
        {
            "type": "metrics",
            "data": {
                "step": step,
                "total_steps": len(entropy),
                "critic_rewards_mean": 0.3 + 0.05 * step,
                "actor_entropy": entropy[step],
                "actor_grad_norm": grad_norm[step],
                "response_length_mean": 400.0,
            },
        }
        for step in range(len(entropy))
    ] + [{"type": "message", "message": "Job running", "data": None}]


def test_metric_events_become_the_curves_the_health_checks_read() -> None:
    healthy = metrics_from_events(
        _metric_events([1.0, 0.95, 0.9, 0.92, 0.9, 0.88], [1.0, 1.1, 1.0, 0.9, 1.2, 1.0])
    )
    assert healthy.values("critic/rewards/mean")[0] == pytest.approx(0.3)
    report = assess_training(healthy)
    assert report.healthy, report.findings
    assert any(note.startswith("entropy") for note in report.notes)


def test_entropy_collapse_and_grad_norm_blow_up_are_findings() -> None:
    sick = metrics_from_events(_metric_events([1.0, 0.9, 0.5, 0.1, 0.02, 0.01], [1.0, 1.0, 3.0, 10, 30, 40]))
    findings = " ".join(assess_training(sick).findings)
    assert "entropy collapse" in findings and "gradient-norm blow-up" in findings


def test_a_step_read_twice_counts_once() -> None:
    events = _metric_events([1.0, 0.9], [1.0, 1.0])
    assert len(metrics_from_events(events + events).values("actor/entropy")) == 2
