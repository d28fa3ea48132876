"""RFTHyperParameters: service bounds (including the maxima botocore skips), omission, key forms."""

from __future__ import annotations

import pytest

from bedrock_rft_provider.errors import ConfigError, ConfigErrors
from bedrock_rft_provider.jobs.hyperparameters import BOUNDS, RFTHyperParameters


def test_unset_fields_are_omitted_not_defaulted() -> None:
    assert RFTHyperParameters().to_request() == {}
    assert RFTHyperParameters(batch_size=64).to_request() == {"batchSize": 64}


def test_all_eight_fields_render_with_api_names() -> None:
    hp = RFTHyperParameters(
        epoch_count=2,
        batch_size=64,
        learning_rate=1e-5,
        max_prompt_length=4096,
        training_sample_per_prompt=4,
        inference_max_tokens=8192,
        reasoning_effort="high",
        eval_interval=10,
    )
    assert hp.to_request() == {
        "epochCount": 2,
        "batchSize": 64,
        "learningRate": 1e-5,
        "maxPromptLength": 4096,
        "trainingSamplePerPrompt": 4,
        "inferenceMaxTokens": 8192,
        "reasoningEffort": "high",
        "evalInterval": 10,
    }


def test_from_dict_accepts_pythonic_and_api_keys() -> None:
    hp = RFTHyperParameters.from_dict({"batch_size": 32, "epochCount": 3})
    assert hp.to_request() == {"batchSize": 32, "epochCount": 3}


def test_from_dict_rejects_unknown_key_naming_it() -> None:
    with pytest.raises(ConfigError, match=r"hyperparameters\.lora_rank: is not an RFT hyperparameter"):
        RFTHyperParameters.from_dict({"lora_rank": 32})


def test_from_dict_rejects_the_same_field_twice() -> None:
    with pytest.raises(ConfigError, match="given twice"):
        RFTHyperParameters.from_dict({"batch_size": 32, "batchSize": 32})


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("epoch_count", 0, "below the service minimum 1"),
        ("epoch_count", 51, "above the service maximum 50"),
        ("batch_size", 15, "below the service minimum 16"),
        ("batch_size", 1024, "above the service maximum 512"),
        ("learning_rate", 1e-8, "below the service minimum 1e-07"),
        ("learning_rate", 0.01, "above the service maximum 0.001"),
        ("training_sample_per_prompt", 1, "below the service minimum 2"),
        ("training_sample_per_prompt", 17, "above the service maximum 16"),
        ("eval_interval", 0, "below the service minimum 1"),
        ("eval_interval", 101, "above the service maximum 100"),
        ("max_prompt_length", 0, "below the service minimum 1"),
        ("inference_max_tokens", -5, "below the service minimum 1"),
        ("reasoning_effort", "extreme", "is not one of low, medium, high"),
        ("batch_size", "64", "must be a number"),
        ("batch_size", 64.5, "must be a whole number"),
        ("epoch_count", True, "must be a number"),
        ("learning_rate", float("nan"), "must be finite"),
    ],
)
def test_out_of_range_values_name_the_field_and_the_bound(name: str, value: object, expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        RFTHyperParameters(**{name: value})  # type: ignore[arg-type]
    assert info.value.field == f"hyperparameters.{name}"
    assert expected in str(info.value)


def test_bounds_match_the_service_model_minima_and_maxima() -> None:
    """The local bounds are the botocore model's: a drift in either would surface here."""
    import gzip
    import json
    from pathlib import Path

    import botocore

    model_path = Path(botocore.__file__).parent / "data" / "bedrock" / "2023-04-20" / "service-2.json.gz"
    shapes = json.loads(gzip.decompress(model_path.read_bytes()))["shapes"]
    members = shapes["RFTHyperParameters"]["members"]
    for bound in BOUNDS.values():
        shape = shapes[members[bound.api_name]["shape"]]
        if "enum" in shape:
            assert tuple(shape["enum"]) == bound.choices
        if "max" in shape:
            assert shape["max"] == bound.maximum
        if "min" in shape:
            assert shape["min"] == bound.minimum
    assert set(members) == {b.api_name for b in BOUNDS.values()}


def test_every_bad_field_is_reported_at_once() -> None:
    with pytest.raises(ConfigErrors) as info:
        RFTHyperParameters(batch_size=1024, epoch_count=0)
    assert {e.field for e in info.value.errors} == {
        "hyperparameters.batch_size",
        "hyperparameters.epoch_count",
    }


def test_whole_float_for_int_field_is_normalised() -> None:
    assert RFTHyperParameters(batch_size=64.0).to_request() == {"batchSize": 64}  # type: ignore[arg-type]
