"""BedrockRFTPromoteOperator / BedrockRFTRollbackOperator: the champion record in SSM Parameter Store,
the stable deployment that serves it (zero-downtime promotion), and the custom model's tag.

Native champions are custom models served by a deployment; open-weight champions are fine-tuned or
checkpoint model ids that answer without one (``evaluation.champion``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from airflow.providers.amazon.aws.operators.base_aws import AwsBaseOperator
from airflow.providers.amazon.aws.utils.mixins import aws_template_fields

from bedrock_rft_provider.hooks.champion import BedrockRFTChampionHook
from bedrock_rft_provider.links.bedrock import BedrockCustomModelDeploymentLink, BedrockCustomModelLink
from bedrock_rft_provider.operators.lineage_mixin import LineageMixin

if TYPE_CHECKING:
    from airflow.sdk import Context

    from bedrock_rft_provider.hooks.champion_serving import ChampionServing
    from bedrock_rft_provider.lineage import TaskLineage

CHAMPION_TAG = "bedrock-rft-champion"


def champion_serving(
    operator: AwsBaseOperator[BedrockRFTChampionHook], waiter_delay: float, waiter_max_attempts: int
) -> ChampionServing:
    """The champion record and its serving deployment, on ``operator``'s connection."""
    from bedrock_rft_provider.hooks.champion_serving import ChampionServing
    from bedrock_rft_provider.hooks.deployment import BedrockCustomModelDeploymentHook

    deployments = BedrockCustomModelDeploymentHook(
        aws_conn_id=operator.aws_conn_id,
        region_name=operator.region_name,
        verify=operator.verify,
        config=operator.botocore_config,
    )
    return ChampionServing(
        operator.hook, deployments, waiter_delay=waiter_delay, waiter_max_attempts=waiter_max_attempts
    )


class BedrockRFTPromoteOperator(LineageMixin, AwsBaseOperator[BedrockRFTChampionHook]):
    """Make a tuned model the champion of ``family`` (parameter ``/bedrock-rft/champion/<family>``).

    The JSON value records the custom model, deployment and job ARNs, dataset URIs and their sha256,
    the evaluation summary URI and key metrics, ``promoted_at`` and the run id. Each promotion is a
    new SSM parameter version, so ``BedrockRFTChampionHook.rollback`` and ``champion_at`` work on the
    history. A retried task finds its own promotion already recorded and adds nothing.

    On the open-weight path (``openai.gpt-oss-20b`` and the other models of Bedrock's OpenAI-compatible
    API) the champion is the fine-tuned model id, or a checkpoint's model id, which answers through
    Chat Completions without a deployment: the record holds it as ``model_id`` with
    ``"backend": "open-weight"`` and the job id as ``job_id``; no deployment is required (giving one is a
    ConfigError), none is tagged or linked, and rollback works as on the native path.

    :param family: the model family; the champion record is SSM ``/bedrock-rft/champion/<family>``.
    :param custom_model_arn: the tuned model to promote (e.g. the RFT job's ``custom_model_arn``; for an
        open-weight job that is its ``fine_tuned_model`` id, taken as ``model_id``). Required unless
        ``model_id`` is given.
    :param model_id: an open-weight model id to promote instead: a fine-tuned model or the checkpoint an
        evaluation chose (``evaluate.output["model_id"]``); wins over ``custom_model_arn``. A native
        model id here is a ConfigError.
    :param backend: ``"native"``, ``"open-weight"`` or None/``"auto"`` (from the model id); needed only
        for an open-weight id that does not start with its base model id.
    :param deployment_arn: its deployment, which serves the champion (evaluation and backfills use it);
        native models only.
    :param job_arn: the RFT job that trained it (kept in the record): its ARN, or an open-weight job's id.
    :param dataset_uris: e.g. ``{"train": "s3://...", "test": "s3://..."}``; an empty URI is left out.
    :param dataset_sha256: their digests; computed by reading the objects when omitted.
    :param eval_summary_uri: where the evaluation's ``summary.json`` is (kept in the record).
    :param summary: the evaluation summary (key metrics are kept in the record, and the checkpoint an
        open-weight evaluation chose). When its ``model_id`` is a model id that is neither the promoted
        model nor ``deployment_arn``, the task fails (ConfigError) before writing: the gate passed
        another model.
    :param grader_lambda_arn: the grader Lambda the model was evaluated with (its alias or version ARN):
        the record keeps its version ARN and ``CodeSha256`` as ``grader``, so a later run's grader-change
        guard (``BedrockGraderChangeGuardOperator``) can tell when the reward's code changed.
    :param tag_model: tag the custom model ``bedrock-rft-champion=<family>`` (native models only).
    :param stable_deployment: zero-downtime promotion (native models): re-point the current champion's
        deployment at the new model with ``UpdateCustomModelDeployment`` so the ARN applications call
        stays the same; the first champion of a family, or one whose deployment cannot be updated,
        is served from ``deployment_arn`` instead (the old champion deployment is then deleted after
        the record moved). The record's ``deployment_arn`` is the serving deployment;
        ``previous_model_arn`` and ``replaced_deployment_arn`` say what it replaced. A record write that
        fails after the re-pointing fails the task with ``StaleChampionRecordError`` (what serves now, what
        the record still names); its retry or clear writes the record without updating the deployment
        again, and until then other promotions and rollbacks of the family fail with
        ``DeploymentBusyError`` without changing anything. Default False: the record takes
        ``deployment_arn`` as given.
    :param baseline_version: the champion's SSM version the challenger was evaluated against (0 = there
        was no champion; templated). When the champion has changed since (another run promoted, or a
        rollback, while e.g. an approval waited), the task fails with ``ChampionChangedError`` before
        writing anything. None/empty (default) = no check.
    :param waiter_delay: seconds between checks while the champion deployment updates (default 30).
    :param waiter_max_attempts: checks before giving up on the update (default 120).
    :return: ``{parameter, version, record}``; each key is also pushed as its own XCom.
    """

    aws_hook_class = BedrockRFTChampionHook
    # The version an earlier try of this run already wrote (this try changed nothing), else None; the
    # promotion notifier reads it so that a retry or clear does not announce the promotion again.
    already_written: int | None = None
    template_fields: Sequence[str] = aws_template_fields(
        "family",
        "custom_model_arn",
        "model_id",
        "backend",
        "deployment_arn",
        "job_arn",
        "dataset_uris",
        "dataset_sha256",
        "eval_summary_uri",
        "summary",
        "grader_lambda_arn",
        "baseline_version",
    )
    template_fields_renderers = {"dataset_uris": "json", "summary": "json"}
    operator_extra_links = (BedrockCustomModelLink(), BedrockCustomModelDeploymentLink())
    ui_color = "#e8ffe5"

    def __init__(
        self,
        *,
        family: str,
        custom_model_arn: str | None = None,
        model_id: str | None = None,
        backend: str | None = None,
        deployment_arn: str | None = None,
        job_arn: str | None = None,
        dataset_uris: Mapping[str, str] | None = None,
        dataset_sha256: Mapping[str, str] | None = None,
        eval_summary_uri: str | None = None,
        summary: Any = None,
        tag_model: bool = True,
        grader_lambda_arn: str | None = None,
        stable_deployment: bool = False,
        baseline_version: int | str | None = None,
        waiter_delay: float = 30,
        waiter_max_attempts: int = 120,
        **kwargs: Any,
    ) -> None:
        # Each key of the returned dict is also its own XCom, so ``task.output["key"]`` works (Airflow 3).
        kwargs.setdefault("multiple_outputs", True)
        super().__init__(**kwargs)
        self.family = family
        self.custom_model_arn = custom_model_arn
        self.model_id = model_id
        self.backend = backend
        self.deployment_arn = deployment_arn
        self.job_arn = job_arn
        self.dataset_uris = dataset_uris
        self.dataset_sha256 = dataset_sha256
        self.eval_summary_uri = eval_summary_uri
        self.summary = summary
        self.tag_model = tag_model
        self.grader_lambda_arn = grader_lambda_arn
        self.stable_deployment = stable_deployment
        self.baseline_version = baseline_version
        self.waiter_delay = waiter_delay
        self.waiter_max_attempts = waiter_max_attempts

    def execute(self, context: Context) -> dict[str, Any]:
        from bedrock_rft_provider.errors import ConfigError
        from bedrock_rft_provider.evaluation.champion import build_record, parameter_name, promoted_model
        from bedrock_rft_provider.evaluation.gate import coerce_summary
        from bedrock_rft_provider.evaluation.model_backend import NATIVE
        from bedrock_rft_provider.evaluation.promotion import not_evaluated
        from bedrock_rft_provider.templated import is_unset

        parameter_name(self.family)  # validate before any AWS call
        for name in ("custom_model_arn", "model_id", "deployment_arn", "job_arn"):
            if is_unset(getattr(self, name)):  # "None" is what an absent XCom renders to, not a model
                setattr(self, name, None)
        backend, model = promoted_model(self.custom_model_arn or None, self.model_id or None, self.backend)
        self._check_baseline(model, context["run_id"])
        summary = coerce_summary(self.summary) if self.summary else None
        promoted = (model, self.custom_model_arn, self.model_id, self.deployment_arn)
        mismatch = not_evaluated(summary, promoted)
        if mismatch:
            raise ConfigError("summary", mismatch)
        # An empty URI is a split this model did not train on (e.g. trained on invocation logs).
        dataset_uris = {name: uri for name, uri in dict(self.dataset_uris or {}).items() if uri}
        digests = dict(self.dataset_sha256 or {}) or self._digests(dataset_uris)
        promoted_at = datetime.now(timezone.utc)
        grader = self._grader(self.grader_lambda_arn) if self.grader_lambda_arn else None

        def make_record(deployment_arn: str | None) -> dict[str, Any]:
            record = build_record(
                family=self.family,
                custom_model_arn=self.custom_model_arn or None,
                model_id=self.model_id or None,
                backend=self.backend,
                checkpoint=(summary or {}).get("checkpoint"),
                deployment_arn=deployment_arn,
                job_arn=self.job_arn or None,
                dataset_uris=dataset_uris,
                dataset_sha256=digests,
                eval_summary_uri=self.eval_summary_uri,
                summary=summary,
                run_id=context["run_id"],
                promoted_at=promoted_at,
            )
            if grader is not None:
                record["grader"] = grader
            return record

        if backend == NATIVE and self.stable_deployment:
            serving = champion_serving(self, self.waiter_delay, self.waiter_max_attempts)
            version = serving.promote(self.family, model, self.deployment_arn or None, make_record)
        else:
            version = self.hook.promote(self.family, make_record(self.deployment_arn or None))
        if version.record.get("promoted_at") != promoted_at.astimezone(timezone.utc).isoformat():
            self.already_written = version.version
        if backend == NATIVE:  # open-weight models have no console page, deployment or tags
            self._link_and_tag(context, model, version.record.get("deployment_arn"))
        self.log.info("%s is champion of %s (SSM version %d)", model, self.family, version.version)
        self.lineage_result = {
            "parameter": self.hook.parameter(self.family),
            "version": version.version,
            "record": version.record,
        }
        return self.lineage_result

    def _check_baseline(self, model: str, run_id: str) -> None:
        """Refuse (before any write) when the champion changed since the challenger was evaluated."""
        from bedrock_rft_provider.evaluation.promotion import ChampionChangedError, champion_moved
        from bedrock_rft_provider.templated import as_int, is_unset

        if is_unset(self.baseline_version):
            return
        expected = as_int("baseline_version", self.baseline_version, minimum=0)
        reason = champion_moved(self.hook.history(self.family), run_id, model, expected)
        if reason:
            raise ChampionChangedError(f"{self.family}: {reason}")

    def lineage(self) -> TaskLineage:
        """Model, deployment, data files, grader and evaluation summary -> the champion record."""
        from bedrock_rft_provider.lineage import champion_task

        return champion_task(
            self.lineage_result, eval_summary_uri=self.eval_summary_uri, region=self.hook.conn_region_name
        )

    def _link_and_tag(self, context: Context, model_arn: str, deployment_arn: str | None) -> None:
        from bedrock_rft_provider.hooks.deployment import BedrockCustomModelDeploymentHook

        links = {"region_name": self.hook.conn_region_name, "aws_partition": self.hook.conn_partition}
        BedrockCustomModelLink.persist(context=context, operator=self, model_arn=model_arn, **links)
        if deployment_arn:
            BedrockCustomModelDeploymentLink.persist(
                context=context, operator=self, deployment_arn=deployment_arn, **links
            )
        if self.tag_model:
            BedrockCustomModelDeploymentHook(**self._hook_kwargs()).tag_resource(
                model_arn, {CHAMPION_TAG: self.family}
            )

    def _grader(self, lambda_arn: str) -> dict[str, str]:
        """The grader's version ARN and code hash (an alias resolves to the version it points at now)."""
        from bedrock_rft_provider.hooks.reward_lambda import RewardLambdaHook

        return RewardLambdaHook(**self._hook_kwargs()).grader_version(lambda_arn)

    def _hook_kwargs(self) -> dict[str, Any]:
        return {
            "aws_conn_id": self.aws_conn_id,
            "region_name": self.region_name,
            "verify": self.verify,
            "config": self.botocore_config,
        }

    def _digests(self, uris: Mapping[str, str]) -> dict[str, str]:
        """sha256 of each dataset file (streamed from S3 or read locally)."""
        from bedrock_rft_provider.hooks.storage import StorageHook

        storage = StorageHook(**self._hook_kwargs())
        return {name: storage.sha256(uri) for name, uri in uris.items()}


class BedrockRFTRollbackOperator(AwsBaseOperator[BedrockRFTChampionHook]):
    """Make an earlier champion version of ``family`` the champion again, without downtime.

    The champion deployment (the current record's ``deployment_arn``) is re-pointed at that version's
    custom model with ``UpdateCustomModelDeployment`` (its ARN stays the same), then the old record
    is written as a new SSM version with ``rollback_of_version`` and ``rollback_run_id``. Open-weight
    champions need no deployment: only the record changes. A retry or clear of the task finds its run's
    rollback (even after newer promotions) and changes nothing.

    :param family: the model family (SSM ``/bedrock-rft/champion/<family>``).
    :param version: the SSM parameter version to restore (``BedrockRFTChampionHook.history``).
    :param waiter_delay: seconds between checks while the deployment updates (default 30).
    :param waiter_max_attempts: checks before giving up (default 120).
    :return: ``{parameter, version, record}`` of the version written.
    :raises ValueError: no such version. ``DeploymentUpdateImpossibleError``: the deployment cannot
        serve that model (e.g. it was deleted, or another base model); nothing is written then.
    """

    aws_hook_class = BedrockRFTChampionHook
    already_written: int | None = None  # as on BedrockRFTPromoteOperator: the rollback notifier skips
    template_fields: Sequence[str] = aws_template_fields("family", "version")
    ui_color = "#ffe8e5"

    def __init__(
        self,
        *,
        family: str,
        version: int | str,
        waiter_delay: float = 30,
        waiter_max_attempts: int = 120,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.family = family
        self.version = version
        self.waiter_delay = waiter_delay
        self.waiter_max_attempts = waiter_max_attempts

    def execute(self, context: Context) -> dict[str, Any]:
        from bedrock_rft_provider.errors import ConfigError
        from bedrock_rft_provider.evaluation.champion import parameter_name

        parameter_name(self.family)
        try:
            version = int(self.version)
        except (TypeError, ValueError):
            raise ConfigError("version", f"{self.version!r} is not an SSM parameter version number") from None
        history_before = max((v.version for v in self.hook.history(self.family)), default=0)
        written = champion_serving(self, self.waiter_delay, self.waiter_max_attempts).rollback(
            self.family, version, run_id=context.get("run_id")
        )
        if written.version <= history_before:  # an earlier try (or this run before a clear) wrote it
            self.already_written = written.version
        self.log.info("%s rolled back to version %d (now version %d)", self.family, version, written.version)
        return {
            "parameter": self.hook.parameter(self.family),
            "version": written.version,
            "record": written.record,
        }
