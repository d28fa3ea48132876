"""Which API answers a model under evaluation, and when two models compare like with like."""

from __future__ import annotations

import pytest

from bedrock_rft_provider.errors import ConfigError
from bedrock_rft_provider.evaluation.model_backend import inference_backend, open_weight_base, unlike_models

DEPLOYMENT = "arn:aws:bedrock:us-east-1:123456789012:custom-model-deployment/abc123"
TUNED = "openai.gpt-oss-20b:ft:ftjob-abc"


@pytest.mark.parametrize(
    ("model_id", "backend"),
    [
        ("openai.gpt-oss-20b", "open-weight"),
        ("qwen.qwen3-32b", "open-weight"),
        ("nvidia.nemotron-nano-3-30b", "open-weight"),
        (TUNED, "open-weight"),
        (f"{TUNED}:ckpt-step-10", "open-weight"),
        ("ft:qwen.qwen3-32b:acme::abc", "open-weight"),
        ("amazon.nova-2-lite-v1:0:256k", "native"),
        ("amazon.nova-2-lite-v1:0", "native"),
        ("us.amazon.nova-2-lite-v1:0", "native"),
        (DEPLOYMENT, "native"),
        # Bedrock Runtime's own id for gpt-oss answers through Converse, not the fine-tuning API's.
        ("openai.gpt-oss-20b-1:0", "native"),
    ],
)
def test_the_backend_follows_the_model_id(model_id: str, backend: str) -> None:
    assert inference_backend(model_id) == backend


@pytest.mark.parametrize("override", [None, "auto", "", "open-weight", "open_weight", " Open-Weight "])
def test_an_open_weight_id_accepts_auto_and_its_own_backend(override: str | None) -> None:
    assert inference_backend(TUNED, override) == "open-weight"


def test_a_tuned_id_that_does_not_name_its_base_needs_the_override() -> None:
    assert inference_backend("my-tuned-model") == "native"
    assert inference_backend("my-tuned-model", "open-weight") == "open-weight"


@pytest.mark.parametrize(
    ("model_id", "override", "message"),
    [
        ("openai.gpt-oss-20b", "native", r"^backend: 'native' cannot answer 'openai.gpt-oss-20b': .*Chat"),
        (TUNED, "native", "answers through Chat Completions"),
        (DEPLOYMENT, "open-weight", "answers through Converse"),
        ("amazon.nova-2-lite-v1:0:256k", "open-weight", "answers through Converse"),
        ("openai.gpt-oss-20b", "chat", r"^backend: 'chat' is not one of auto, native, open-weight"),
    ],
)
def test_a_contradicting_override_is_refused(model_id: str, override: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        inference_backend(model_id, override)


def test_open_weight_base_reads_the_base_from_tuned_and_checkpoint_ids() -> None:
    assert open_weight_base(f"{TUNED}:ckpt-step-5") == "openai.gpt-oss-20b"
    assert open_weight_base("openai.gpt-oss-20b-1:0") is None
    assert open_weight_base(DEPLOYMENT) is None


def test_like_with_like_is_the_base_against_its_own_tuned_model_or_checkpoint() -> None:
    assert unlike_models(TUNED, "open-weight", "openai.gpt-oss-20b", "open-weight") is None
    assert unlike_models(f"{TUNED}:ckpt-step-5", "open-weight", TUNED, "open-weight") is None
    other_base = unlike_models(TUNED, "open-weight", "qwen.qwen3-32b", "open-weight")
    assert other_base == f"{TUNED} is tuned from openai.gpt-oss-20b but the baseline is qwen.qwen3-32b"
    other_api = unlike_models(TUNED, "open-weight", DEPLOYMENT, "native")
    assert other_api is not None and "two model families" in other_api
