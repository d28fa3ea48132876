"""Validate a ``fine_tuning.jobs.create`` body against the ``openai`` client's own request types.

Everything the SDK types is checked with its TypedDicts (``JobCreateParams``, ``Method``,
``ReinforcementMethodParam``'s keys, ``ReinforcementHyperparametersParam``), values through pydantic and
keys against the TypedDicts' declared keys (pydantic ignores unknown TypedDict keys). The grader is the
one Bedrock extension: the SDK's grader union has no ``lambda`` member, so it is checked against
:data:`LAMBDA_GRADER`, written from the Bedrock user guide (``fine-tuning-openai-job-create``).
"""

from __future__ import annotations

from typing import Any

from openai.types.fine_tuning.job_create_params import JobCreateParams, Method
from openai.types.fine_tuning.reinforcement_hyperparameters_param import ReinforcementHyperparametersParam
from openai.types.fine_tuning.reinforcement_method_param import ReinforcementMethodParam
from pydantic import TypeAdapter


def _keys(typed_dict: Any) -> frozenset[str]:
    return frozenset(typed_dict.__required_keys__ | typed_dict.__optional_keys__)


def _check_keys(where: str, value: dict[str, Any], typed_dict: Any) -> None:
    unknown = set(value) - _keys(typed_dict)
    assert not unknown, f"{where}: keys {sorted(unknown)} are not in openai's {typed_dict.__name__}"
    missing = set(typed_dict.__required_keys__) - set(value)
    assert not missing, f"{where}: required keys {sorted(missing)} of {typed_dict.__name__} are missing"


def validate_job_create_body(body: dict[str, Any]) -> None:
    """Raise AssertionError or ValidationError unless ``body`` is a valid open-weight RFT create."""
    _check_keys("body", body, JobCreateParams)
    TypeAdapter(JobCreateParams).validate_python({k: v for k, v in body.items() if k != "method"})
    method = body["method"]
    _check_keys("method", method, Method)
    TypeAdapter(Method).validate_python({"type": method["type"]})
    assert method["type"] == "reinforcement" and set(method) == {"type", "reinforcement"}, method
    reinforcement = method["reinforcement"]
    _check_keys("method.reinforcement", reinforcement, ReinforcementMethodParam)
    hyperparameters = reinforcement.get("hyperparameters", {})
    _check_keys("method.reinforcement.hyperparameters", hyperparameters, ReinforcementHyperparametersParam)
    TypeAdapter(ReinforcementHyperparametersParam).validate_python(hyperparameters)
    grader = reinforcement["grader"]
    assert grader == {"type": "lambda", "lambda": {"function": grader["lambda"]["function"]}}, grader
    assert isinstance(grader["lambda"]["function"], str) and grader["lambda"]["function"].startswith(
        "arn:aws:lambda:"
    ), grader
