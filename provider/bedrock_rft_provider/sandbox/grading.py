"""Scoring samples with a job's deployed reward Lambda: batched events, retries, strict result checks.

Bedrock's grader batch size and retry policy are undocumented; LB (reference facts section 2) says failed
reward calls are retried three times with backoff before the job fails, which is what this does.
"""

from __future__ import annotations

import json
import logging
import math
import time
from typing import Any

from bedrock_rft_provider.sandbox.lambda_runtime import InvocationResult, LambdaWorker

log = logging.getLogger(__name__)

GRADER_RETRIES = 3


class JobFailure(Exception):
    """Ends the job as Failed with this message as ``failureMessage``."""


class LambdaRewardScorer:
    """Scores a job's samples with its deployed reward Lambda, batching events and retrying failures."""

    def __init__(self, lambda_arn: str, worker: LambdaWorker, batch_size: int, backoff: float) -> None:
        self.lambda_arn = lambda_arn
        self.worker = worker
        self.batch_size = batch_size
        self.backoff = backoff

    def score(self, events: list[dict[str, Any]], where: str) -> list[float]:
        scores: list[float] = []
        for start in range(0, len(events), self.batch_size):
            scores.extend(self._score_batch(events[start : start + self.batch_size], where))
        return scores

    def _score_batch(self, batch: list[dict[str, Any]], where: str) -> list[float]:
        problem = ""
        for attempt in range(GRADER_RETRIES + 1):
            result = self.worker.invoke(batch, invoked_arn=self.lambda_arn)
            scores, problem = _read_scores(batch, result)
            if scores is not None:
                return scores
            log.warning("reward Lambda attempt %d failed %s: %s", attempt + 1, where, problem)
            time.sleep(self.backoff * (2**attempt))
        raise JobFailure(
            f"The reward function {self.lambda_arn} failed {where} after {GRADER_RETRIES} retries: "
            f"{problem} Fix the grader (run it locally with `bedrock-rft test-reward`), redeploy it, "
            "and start a new job."
        )


def _read_scores(batch: list[dict[str, Any]], result: InvocationResult) -> tuple[list[float] | None, str]:
    if result.error is not None:
        error = result.error
        where = ""
        trace = error.get("stackTrace") or []
        if trace:
            where = f" (at {str(trace[-1]).strip().splitlines()[0]})"
        return None, f"{error.get('errorType', 'Error')}: {error.get('errorMessage', '')}{where}."
    payload = result.payload
    expected = "a list with one {id, aggregate_reward_score} object per sample"
    if not isinstance(payload, list) or len(payload) != len(batch):
        size = len(payload) if isinstance(payload, list) else type(payload).__name__
        return None, f"the grader returned {size} result(s) for {len(batch)} samples; expected {expected}."
    by_id: dict[str, float] = {}
    for item in payload:
        score = item.get("aggregate_reward_score") if isinstance(item, dict) else None
        if isinstance(score, bool) or not isinstance(score, (int, float)) or not math.isfinite(score):
            return (
                None,
                f"the grader returned {json.dumps(item)[:200]}; expected {expected} with a finite number.",
            )
        by_id[str(item.get("id"))] = float(score)
    missing = [e["id"] for e in batch if e["id"] not in by_id]
    if missing:
        return None, f"the grader's results have no entry for sample id {missing[0]!r}; expected {expected}."
    return [by_id[e["id"]] for e in batch], ""
