"""Score responses with the training reward: in-process through its handler, or via the grader Lambda."""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any

from bedrock_rft_provider.errors import BedrockRFTError, ConfigError
from bedrock_rft_provider.evaluation.records import EvalRecord, ResponseRecord

# A grading function (the in-process reward, a ProcessGrader, or the grader Lambda) takes a batch of
# grader samples (the Lambda event) and returns one result per sample.
GradeFn = Callable[[list[dict[str, Any]]], list[dict[str, Any]]]


class ScoringError(BedrockRFTError):
    """The reward broke its contract (raised, lost a sample, returned a non-number)."""


@dataclass(frozen=True)
class SampleResult:
    """The score of one (prompt, sample) answer, as written to ``results.jsonl``."""

    id: str
    sample: int
    score: float
    metrics: dict[str, float] = field(default_factory=dict)
    response_length: int = 0
    error: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, obj: dict[str, Any]) -> SampleResult:
        return cls(
            id=str(obj["id"]),
            sample=int(obj.get("sample", 0)),
            score=float(obj["score"]),
            metrics={str(k): float(v) for k, v in (obj.get("metrics") or {}).items()},
            response_length=int(obj.get("response_length", 0)),
            error=obj.get("error"),
            metadata=dict(obj.get("metadata") or {}),
        )


def response_length(text: str | None) -> int:
    """Length of a response in whitespace-separated words (a tokenizer-free proxy for tokens)."""
    return len(text.split()) if text else 0


def grader_id(record_id: str, sample: int) -> str:
    return record_id if sample == 0 else f"{record_id}#s{sample}"


def grader_sample(record: EvalRecord, response: ResponseRecord) -> dict[str, Any]:
    """The grader event entry for one answer, shaped exactly like Bedrock's (facts §2)."""
    metadata = dict(record.metadata)
    metadata["reference_answer"] = record.reference_answer
    answer: dict[str, Any] = {"role": "assistant", "content": response.response or ""}
    if response.reasoning:  # the grader contract keeps reasoning out of the graded answer
        answer["reasoning_content"] = response.reasoning
    return {
        "id": grader_id(record.id, response.sample),
        "messages": [*record.messages, answer],
        "metadata": metadata,
    }


def handler_grader(handler: Callable[[Any, Any], Any]) -> GradeFn:
    """Use a Lambda handler (e.g. from ``rewards.make_handler``) in-process."""

    def grade(batch: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return handler(batch, None)

    return grade


def load_reward(spec: str) -> Any:
    """Import ``module:function`` or ``path/to/file.py:function`` (the rewards runner's loader)."""
    from bedrock_rft_provider.rewards.runner import RewardSpecError
    from bedrock_rft_provider.rewards.runner import load_reward as load

    try:
        reward = load(spec)
    except RewardSpecError as exc:
        raise ConfigError("reward", str(exc)) from exc
    if not callable(reward):
        raise ConfigError("reward", f"{spec} is not callable")
    return reward


def importable_spec(reward: Callable[..., Any]) -> str | None:
    """``module:name`` for a module-level callable another process can import, else None."""
    module, name = getattr(reward, "__module__", None), getattr(reward, "__qualname__", None)
    if not module or not name or module == "__main__" or not name.isidentifier():
        return None
    imported = sys.modules.get(module)
    return f"{module}:{name}" if getattr(imported, name, None) is reward else None


def reward_grader(reward: str | Callable[..., Any]) -> GradeFn:
    """A grader running a reward through the Lambda's own contract in a separate worker process.

    Like the deployed grader, the handler (and any code it runs) lives outside this process
    (``rewards.process.ProcessGrader``). A callable that another process cannot import (a lambda, a
    closure, a factory's product) is scored in-process; ``code_tests`` still isolates the code it runs.
    """
    from bedrock_rft_provider.rewards import as_handler
    from bedrock_rft_provider.rewards.process import ProcessGrader, RewardLoadError

    spec = reward if isinstance(reward, str) else importable_spec(reward)
    if spec is None:
        return handler_grader(as_handler(reward))
    if isinstance(reward, str):
        load_reward(reward)  # fail early, with a ConfigError naming the reward
    grader = ProcessGrader(spec)
    try:
        grader.start()
    except RewardLoadError as exc:
        raise ConfigError("reward", str(exc)) from exc
    return handler_grader(grader)


def lambda_grader(client: Any, function_name: str, qualifier: str | None = None) -> GradeFn:
    """Invoke the deployed grader Lambda synchronously with one batch per call."""

    def grade(batch: list[dict[str, Any]]) -> list[dict[str, Any]]:
        kwargs: dict[str, Any] = {
            "FunctionName": function_name,
            "InvocationType": "RequestResponse",
            "Payload": json.dumps(batch).encode("utf-8"),
        }
        if qualifier:
            kwargs["Qualifier"] = qualifier
        response = client.invoke(**kwargs)
        payload = response["Payload"].read()
        if response.get("FunctionError"):
            raise ScoringError(f"grader Lambda {function_name} failed: {payload.decode('utf-8', 'replace')}")
        return json.loads(payload)

    return grade


def _metric_values(result: dict[str, Any], where: str) -> dict[str, float]:
    metrics: dict[str, float] = {}
    for entry in result.get("metrics_list") or []:
        if not isinstance(entry, dict) or "name" not in entry:
            raise ScoringError(f"{where}: metrics_list entries need a name and a value, got {entry!r}")
        value = entry.get("value")
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            metrics[str(entry["name"])] = float(value)
    return metrics


def _grade_batch(grader: GradeFn, batch: list[tuple[EvalRecord, ResponseRecord]]) -> list[SampleResult]:
    samples = [grader_sample(record, response) for record, response in batch]
    ids = [sample["id"] for sample in samples]
    try:
        results = grader(samples)
    except ScoringError:
        raise
    except Exception as exc:
        raise ScoringError(f"the reward raised on a batch starting at id {ids[0]!r}: {exc!r}") from exc
    if not isinstance(results, list):
        raise ScoringError(f"the reward returned {type(results).__name__}, expected a list of results")
    by_id: dict[str, Any] = {}
    for item in results:
        if isinstance(item, dict) and "id" in item:
            by_id[str(item["id"])] = item
    scored: list[SampleResult] = []
    for (record, response), sample_id in zip(batch, ids, strict=True):
        result = by_id.get(sample_id)
        if result is None:
            raise ScoringError(f"the reward returned no result for id {sample_id!r}")
        score = result.get("aggregate_reward_score")
        if not isinstance(score, (int, float)) or isinstance(score, bool) or not math.isfinite(score):
            raise ScoringError(
                f"id {sample_id!r}: aggregate_reward_score must be a finite number, got {score!r}"
            )
        scored.append(
            SampleResult(
                id=record.id,
                sample=response.sample,
                score=float(score),
                metrics=_metric_values(result, f"id {sample_id!r}"),
                response_length=response_length(response.response),
                metadata=record.metadata,
            )
        )
    return scored


def score(
    pairs: Sequence[tuple[EvalRecord, ResponseRecord]],
    grader: GradeFn,
    *,
    batch_size: int = 25,
    max_workers: int = 1,
) -> list[SampleResult]:
    """Score every (record, response) pair in batches; answers that failed to generate score 0."""
    if batch_size < 1:
        raise ConfigError("batch_size", f"must be at least 1, got {batch_size}")
    gradable = [(r, resp) for r, resp in pairs if resp.response is not None]
    batches = [gradable[i : i + batch_size] for i in range(0, len(gradable), batch_size)]
    by_key: dict[tuple[str, int], SampleResult] = {}
    with ThreadPoolExecutor(max_workers=max(1, max_workers)) as pool:
        for batch_results in pool.map(lambda b: _grade_batch(grader, b), batches):
            by_key.update({(res.id, res.sample): res for res in batch_results})
    results: list[SampleResult] = []
    for record, response in pairs:
        if response.response is None:
            results.append(
                SampleResult(record.id, response.sample, 0.0, error=response.error, metadata=record.metadata)
            )
        else:
            results.append(by_key[(record.id, response.sample)])
    return results
