"""BedrockRFTEvaluationOperator: EvaluationRequest rejects bad arguments before any storage or AWS call."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import pytest

from bedrock_rft_provider.errors import ConfigError, ConfigErrors
from bedrock_rft_provider.evaluation.request import EvaluationRequest
from bedrock_rft_provider.hooks.evaluation import BedrockRFTEvaluationHook
from bedrock_rft_provider.operators.evaluation import BedrockRFTEvaluationOperator

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "evaluation"
REWARD = "bedrock_rft_provider.rewards.builtin:math_answer"


@pytest.fixture
def no_io(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any storage, runtime or Lambda access fails the test: validation must come first."""

    def touched(self: Any, *args: Any, **kwargs: Any) -> Any:
        pytest.fail("the operator reached storage or AWS before rejecting its arguments")

    monkeypatch.setattr(BedrockRFTEvaluationHook, "storage", property(touched))
    monkeypatch.setattr(BedrockRFTEvaluationHook, "runtime_client", touched)
    monkeypatch.setattr(BedrockRFTEvaluationHook, "lambda_client", touched)


def operator(tmp_path: Path, **overrides: Any) -> BedrockRFTEvaluationOperator:
    arguments: dict[str, Any] = {
        "task_id": "evaluate",
        "dataset_uri": str(FIXTURES / "dataset.jsonl"),
        "model_id": "amazon.nova-2-lite-v1:0",
        "reward": REWARD,
        "output_uri": str(tmp_path / "eval"),
        "aws_conn_id": None,
        "region_name": "us-east-1",
    }
    return BedrockRFTEvaluationOperator(**{**arguments, **overrides})


def test_a_templated_maybe_for_sandbox_fails_naming_the_field(tmp_path: Path, no_io: None) -> None:
    op = operator(tmp_path, sandbox="{{ params.sandbox }}")
    op.sandbox = "maybe"  # what the template rendered
    with pytest.raises(ConfigError, match=r"^sandbox: expected true or false, got 'maybe'$"):
        op.execute({})  # type: ignore[arg-type]
    assert not (tmp_path / "eval").exists()  # nothing was written


def test_every_bad_argument_is_listed_before_any_io(tmp_path: Path, no_io: None) -> None:
    op = operator(tmp_path, concurrency="0", success_threshold="high", reward_lambda_arn="arn:x")
    with pytest.raises(ConfigErrors) as info:
        op.execute({})  # type: ignore[arg-type]
    assert [e.field for e in info.value.errors] == [
        "concurrency",
        "success_threshold",
        "reward / reward_lambda_arn",
    ]


def test_the_operator_arguments_are_exactly_the_request_fields(tmp_path: Path) -> None:
    """One list of arguments: a new operator argument without a request field (or the reverse) fails here."""
    signature = inspect.signature(BedrockRFTEvaluationOperator.__init__)
    arguments = [p for p in signature.parameters if p not in ("self", "kwargs")]
    assert arguments == list(EvaluationRequest.field_names())
    op = operator(tmp_path, concurrency="{{ params.n }}", seed=3)
    assert (op.concurrency, op.seed, op.reward) == (
        "{{ params.n }}",
        3,
        REWARD,
    )  # kept as given, for rendering
    defaults = {name: p.default for name, p in signature.parameters.items() if name in arguments}
    request_defaults = {f: getattr(EvaluationRequest, f, inspect.Parameter.empty) for f in arguments}
    assert defaults == request_defaults  # the documented defaults are the ones the request applies
