"""BedrockGraderChangeGuardOperator: no paid training against a grader whose meaning silently changed."""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow.providers.amazon.aws.operators.base_aws import AwsBaseOperator
from airflow.providers.amazon.aws.utils.mixins import aws_template_fields
from airflow.providers.common.compat.sdk import AirflowFailException

from bedrock_rft_provider.evaluation.defaults import DEFAULT_MAX_CHANGED_SHARE, DEFAULT_SCORE_TOLERANCE
from bedrock_rft_provider.hooks.champion import BedrockRFTChampionHook

if TYPE_CHECKING:
    from airflow.sdk import Context

    from bedrock_rft_provider.evaluation import grader_change

RESPONSES_FILE = "responses.jsonl"


class BedrockGraderChangeGuardOperator(AwsBaseOperator[BedrockRFTChampionHook]):
    """Before training: fail when the deployed grader scores the champion's stored answers differently.

    Reads the champion record of ``family`` (``BedrockRFTPromoteOperator`` keeps the grader it was
    evaluated with, as ``grader``: version ARN and ``CodeSha256``). When the deployed grader's
    ``CodeSha256`` is the same, or there is no champion (or it has no grader recorded), it passes
    without invoking anything. Otherwise it re-scores the champion's stored evaluation responses
    (``responses.jsonl`` next to its ``eval_summary_uri``, joined with its ``dataset_uris["test"]``)
    with the old grader version and the new grader, and fails (not retried) when more than
    ``max_changed_share`` of them moved by more than ``score_tolerance``, listing the examples that
    changed — unless ``allow_grader_change`` says the change is intended (then it only warns).

    :param family: the champion's model family.
    :param reward_lambda_arn: the deployed grader the run would train with (alias or version ARN).
    :param allow_grader_change: continue even when the scores changed (default False); templated bool.
    :param max_changed_share: share of responses allowed to change score (default 0.02).
    :param score_tolerance: a score moving by at most this does not count as changed (default 1e-6).
    :param max_samples: at most this many stored responses are re-scored, twice (default 200), so the
        backtest's Lambda cost stays bounded.
    :param grader_batch_size: responses per grader invocation (default 25).
    :return: ``{"status": "no_champion" | "unrecorded" | "unchanged" | "consistent" | "changed_allowed",
        "old_code_sha256", "new_code_sha256", "backtest"}`` (``backtest`` is ``Backtest.as_dict()``).
    """

    aws_hook_class = BedrockRFTChampionHook
    template_fields: Sequence[str] = aws_template_fields(
        "family",
        "reward_lambda_arn",
        "allow_grader_change",
        "max_changed_share",
        "score_tolerance",
        "max_samples",
    )
    ui_color = "#fff3e0"

    def __init__(
        self,
        *,
        family: str,
        reward_lambda_arn: str,
        allow_grader_change: bool | str = False,
        max_changed_share: float | str = DEFAULT_MAX_CHANGED_SHARE,
        score_tolerance: float | str = DEFAULT_SCORE_TOLERANCE,
        max_samples: int | str = 200,
        grader_batch_size: int = 25,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.family = family
        self.reward_lambda_arn = reward_lambda_arn
        self.allow_grader_change = allow_grader_change
        self.max_changed_share = max_changed_share
        self.score_tolerance = score_tolerance
        self.max_samples = max_samples
        self.grader_batch_size = grader_batch_size

    def execute(self, context: Context) -> dict[str, Any]:
        from bedrock_rft_provider.evaluation.champion import check_family
        from bedrock_rft_provider.templated import as_bool, as_float, as_int

        check_family("family", self.family)
        allow = as_bool("allow_grader_change", self.allow_grader_change, default=False)
        share = as_float("max_changed_share", self.max_changed_share, minimum=0)
        tolerance = as_float("score_tolerance", self.score_tolerance, minimum=0)
        max_samples = as_int("max_samples", self.max_samples, minimum=1)
        champion = self.hook.current(self.family)
        if champion is None:
            self.log.info("No champion for %s yet: nothing to backtest the grader against", self.family)
            return {"status": "no_champion"}
        old = champion.record.get("grader") or {}
        lambda_client = self._lambda_client()
        new_config = lambda_client.get_function_configuration(FunctionName=self.reward_lambda_arn)
        result: dict[str, Any] = {
            "old_code_sha256": old.get("code_sha256"),
            "new_code_sha256": new_config.get("CodeSha256"),
        }
        if not old.get("code_sha256") or not old.get("lambda_arn"):
            self.log.warning(
                "Champion v%d of %s has no grader recorded (promoted without grader_lambda_arn): "
                "cannot tell whether the grader changed",
                champion.version,
                self.family,
            )
            return {"status": "unrecorded", **result}
        if old["code_sha256"] == new_config.get("CodeSha256"):
            self.log.info(
                "Grader unchanged since champion v%d (CodeSha256 %s)", champion.version, old["code_sha256"]
            )
            return {"status": "unchanged", **result}
        self.log.warning(
            "Grader code changed since champion v%d (%s -> %s): re-scoring its stored responses with both",
            champion.version,
            old["code_sha256"],
            new_config.get("CodeSha256"),
        )
        backtest = self._backtest(
            champion.record,
            old_arn=old["lambda_arn"],
            lambda_client=lambda_client,
            share=share,
            tolerance=tolerance,
            max_samples=max_samples,
        )
        result["backtest"] = backtest.as_dict()
        self.log.info("%s", backtest.message())
        if backtest.blocked and not allow:
            context["ti"].xcom_push(key="grader_change", value=result)
            raise AirflowFailException(backtest.message())
        if backtest.blocked:
            self.log.warning("allow_grader_change is set: training with the changed grader anyway")
        return {"status": "changed_allowed" if backtest.blocked else "consistent", **result}

    def _lambda_client(self) -> Any:
        from airflow.providers.amazon.aws.hooks.lambda_function import LambdaHook

        return LambdaHook(
            aws_conn_id=self.aws_conn_id,
            region_name=self.region_name,
            verify=self.verify,
            config=self.botocore_config,
        ).conn

    def _backtest(
        self,
        record: dict[str, Any],
        *,
        old_arn: str,
        lambda_client: Any,
        share: float,
        tolerance: float,
        max_samples: int,
    ) -> grader_change.Backtest:
        from bedrock_rft_provider.evaluation import grader_change, records, scoring
        from bedrock_rft_provider.hooks.storage import StorageHook

        summary_uri, test_uri = record.get("eval_summary_uri"), (record.get("dataset_uris") or {}).get("test")
        if not summary_uri or not test_uri:
            raise AirflowFailException(
                f"The grader changed, but champion {record.get('model_id')} has no stored evaluation to "
                "backtest it on (eval_summary_uri and dataset_uris.test); set allow_grader_change=True "
                "if the change is intended."
            )
        storage = StorageHook(aws_conn_id=self.aws_conn_id, region_name=self.region_name, verify=self.verify)
        with tempfile.TemporaryDirectory(prefix="bedrock-rft-backtest-") as tmp:
            responses_path = storage.fetch(
                str(summary_uri).rsplit("/", 1)[0] + "/" + RESPONSES_FILE, Path(tmp) / RESPONSES_FILE
            )
            dataset_path = storage.fetch(str(test_uri), Path(tmp) / "test.jsonl")
            dataset = records.load_dataset(dataset_path)
            responses = records.load_responses(responses_path)
        pairs, _ = records.join_responses(dataset, responses, source=RESPONSES_FILE)
        pairs = [p for p in pairs if p[1].response is not None][:max_samples]
        old = scoring.score(
            pairs, scoring.lambda_grader(lambda_client, old_arn), batch_size=self.grader_batch_size
        )
        new = scoring.score(
            pairs,
            scoring.lambda_grader(lambda_client, self.reward_lambda_arn),
            batch_size=self.grader_batch_size,
        )
        texts = {(r.id, r.sample): r.response for _, r in pairs}
        return grader_change.compare(
            old, new, responses=texts, max_changed_share=share, score_tolerance=tolerance
        )
