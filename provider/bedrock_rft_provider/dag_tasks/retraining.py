"""The task logic of ``dags/bedrock_rft_retraining.py``: each function is one ``@task`` of that DAG.

``params`` is the run's params dict (the DAG's Param names); ``job`` is ``BedrockRFTJobOperator``'s
result (``job_name``, ``job_arn``, ``status``, ``backend``, ...). Hooks default to the
``aws_default`` connection; tests pass their own. Messages are printed (the task log), since the e2e
scenarios and the DAG tests match on them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from bedrock_rft_provider.jobs.backends import OPEN_WEIGHT, choose_backend
from bedrock_rft_provider.triggers.job_events import QUEUE_URL_ENV, events_configured

if TYPE_CHECKING:
    from bedrock_rft_provider.hooks.bedrock_rft import BedrockRFTHook
    from bedrock_rft_provider.hooks.champion import BedrockRFTChampionHook
    from bedrock_rft_provider.hooks.openweight import BedrockOpenWeightHook
    from bedrock_rft_provider.hooks.storage import StorageHook


def worth_training(summary: Mapping[str, Any], params: Mapping[str, Any]) -> bool:
    """Whether to pay for training, from the base model's ``summary["mean_reward"]`` (0..1) and the
    ``baseline_skip_above`` / ``baseline_skip_below`` params; prints the verdict.

    Also reads the quality gate's params (``min_improvement``, ``min_eval_samples``, ``gate_guards``)
    now, so a bad gate policy raises (``BedrockRFTError``) before paid training, not after it."""
    from bedrock_rft_provider.evaluation.gate import GatePolicy
    from bedrock_rft_provider.jobs.health import baseline_verdict

    GatePolicy.from_dict(
        {
            "min_improvement": params["min_improvement"],
            "min_samples": params["min_eval_samples"],
            "guards": params["gate_guards"],
        }
    )
    verdict = baseline_verdict(
        summary["mean_reward"],
        skip_above=params["baseline_skip_above"],
        skip_below=params["baseline_skip_below"],
    )
    print(verdict.message)
    return verdict.train


def handover(params: Mapping[str, Any], test_uri: str) -> dict[str, Any]:
    """The post-training params a run hands its job over with (``jobs.handling.HANDOVER_PARAMS``):
    its own, with the evaluation reward as ``reward`` and its prepared test split."""
    from bedrock_rft_provider.jobs.handling import HANDOVER_PARAMS

    handed = {key: params[key] for key in HANDOVER_PARAMS if key in params}
    handed["reward"] = params["evaluation_reward"] or params["reward"]
    handed["test_data_uri"] = test_uri
    return handed


def completes_here(
    job: Mapping[str, Any],
    params: Mapping[str, Any],
    prepared: Mapping[str, Any] | None,
    *,
    bedrock: BedrockRFTHook | None = None,
    storage: StorageHook | None = None,
) -> bool:
    """Whether this run goes on to evaluate the job (True), or hands it over to the event path (False).

    With ``completion=event`` and a job still training, writes the :func:`handover` (``prepared`` is
    ``prepare_dataset``'s result, for its ``test_uri``) next to the job's output and returns False. A job
    that already ended (a reused one) goes on here. Raises ``RuntimeError`` for a Failed or Stopped job."""
    if job.get("status") in ("Failed", "Stopped"):
        raise RuntimeError(f"RFT job {job.get('job_name')} is {job['status']}: nothing to evaluate")
    if params["completion"] == "event" and not events_configured():
        print(
            f"completion=event, but {QUEUE_URL_ENV} is not set: train waited for the job (the polling "
            "path). Run `bedrock-rft events-setup` and set it on every Airflow component to hand over."
        )
    if params["completion"] != "event" or job.get("status") not in ("InProgress", "Stopping"):
        return True
    from bedrock_rft_provider.jobs.handling import handover_uri

    if bedrock is None:
        from bedrock_rft_provider.hooks.bedrock_rft import BedrockRFTHook

        bedrock = BedrockRFTHook()
    if storage is None:
        from bedrock_rft_provider.hooks.storage import StorageHook

        storage = StorageHook()
    handed = handover(params, (prepared or {}).get("test_uri") or "")
    output_uri = bedrock.describe_job(job["job_arn"])["outputDataConfig"]["s3Uri"]
    storage.write_text(handover_uri(output_uri), json.dumps(handed, sort_keys=True))
    print(
        f"RFT job {job.get('job_name')} submitted; bedrock_rft_post_training takes over when it "
        f"completes, in family {handed['model_family']} ({handover_uri(output_uri)})"
    )
    return False


def training_health(
    job: Mapping[str, Any],
    params: Mapping[str, Any],
    *,
    bedrock: BedrockRFTHook | None = None,
    open_weight: BedrockOpenWeightHook | None = None,
) -> dict[str, Any]:
    """The job's training-health report (``jobs.health.HealthReport.as_dict()``) under the
    ``health_policy`` param; prints its notes and findings, raises ``RuntimeError`` when it failed."""
    from bedrock_rft_provider.jobs.health import HealthPolicy, assess_training

    if job.get("backend") == OPEN_WEIGHT:
        if open_weight is None:
            from bedrock_rft_provider.hooks.openweight import BedrockOpenWeightHook

            open_weight = BedrockOpenWeightHook()
        metrics = open_weight.read_training_metrics(job["job_id"])
    else:
        if bedrock is None:
            from bedrock_rft_provider.hooks.bedrock_rft import BedrockRFTHook

            bedrock = BedrockRFTHook()
        metrics = bedrock.read_training_metrics(bedrock.describe_job(job["job_name"]))
    report = assess_training(metrics, HealthPolicy(on_finding=params["health_policy"]))
    for line in report.notes + report.findings:
        print(line)
    if report.failed:
        raise RuntimeError("training health check failed:\n" + "\n".join(report.findings))
    return report.as_dict()


def training_spend(job: Mapping[str, Any], forecast: Mapping[str, Any]) -> dict[str, Any]:
    """What training used (``operators.forecast.measure_training_spend``), printed beside the forecast."""
    from bedrock_rft_provider.jobs.spend import describe_spend
    from bedrock_rft_provider.operators.forecast import measure_training_spend

    spend = measure_training_spend(job, forecast)
    print(f"Training spend, {describe_spend(spend)} (evaluation tokens: after the evaluation)")
    return spend


def deployment_needed(job: Mapping[str, Any]) -> str:
    """The task to branch to: ``deploy_tuned`` for a native (Nova) model, which answers only through a
    deployment; ``tuned_model`` for a fine-tuned open-weight model, which answers as it is."""
    if job.get("backend") == OPEN_WEIGHT:
        print(f"{job['fine_tuned_model']} answers without a deployment: skipping deploy_tuned")
        return "tuned_model"
    return "deploy_tuned"


def current_champion(
    params: Mapping[str, Any], *, champions: BedrockRFTChampionHook | None = None
) -> tuple[str, int]:
    """The model to beat and the champion's SSM version (0 = no champion).

    The model is the champion's deployment (Nova) or fine-tuned model (open-weight, no deployment), or
    ``params["base_model_id"]`` when ``params["model_family"]`` has no champion yet."""
    if champions is None:
        from bedrock_rft_provider.hooks.champion import BedrockRFTChampionHook

        champions = BedrockRFTChampionHook()
    champion = champions.current(params["model_family"])
    version = champion.version if champion else 0
    record = champion.record if champion else {}
    serving = record.get("deployment_arn")
    if not serving and choose_backend(params["base_model_id"]) == OPEN_WEIGHT:
        serving = record.get("model_id")
    if champion and serving:
        print(f"Baseline: champion v{champion.version} {serving}")
        return str(serving), version
    print(f"Baseline: no champion yet for {params['model_family']}; comparing with the base model")
    return str(params["base_model_id"]), version


def deployment_to_tear_down(
    deployment_arn: str | None, family: str, *, champions: BedrockRFTChampionHook | None = None
) -> str:
    """The tuned deployment (``deploy_tuned``'s result) to delete, unless it now serves the champion of
    ``family`` (champions stay deployed); "" = nothing to delete."""
    if not deployment_arn:
        return ""
    if champions is None:
        from bedrock_rft_provider.hooks.champion import BedrockRFTChampionHook

        champions = BedrockRFTChampionHook()
    champion = champions.current(family)
    if champion and champion.record.get("deployment_arn") == deployment_arn:
        print(f"Keeping {deployment_arn}: it serves the champion")
        return ""
    return str(deployment_arn)


def outcome(decision: Mapping[str, Any] | None, promoted_version: int | None) -> str:
    """The run's verdict from the gate's ``gate_decision`` XCom (None: the gate never ran) and
    promote's ``version`` XCom (None: nothing promoted); printed and returned."""
    if decision is None:
        verdict = "training skipped (see worth_training)"
    elif not decision["promote"]:
        verdict = "rejected; champion unchanged"
    elif promoted_version is None:
        verdict = "not approved (rejected or timed out); champion unchanged"
    else:
        verdict = "promoted"
    print(f"Retraining outcome: {verdict}")
    return verdict
