"""The task logic of ``dags/bedrock_rft_post_training.py`` (the post-training DAG and its dispatcher).

``params`` is the run's params dict (the DAG's Param names); ``dag_id`` / ``run_id`` name the run.
Hooks default to the ``aws_default`` connection; tests pass their own. Messages are printed (the task
log), since the e2e scenarios and the DAG tests match on them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from bedrock_rft_provider.triggers.job_events import HANDOVER_IN_RUN, HANDOVER_TAG

if TYPE_CHECKING:
    from bedrock_rft_provider.hooks.bedrock_rft import BedrockRFTHook
    from bedrock_rft_provider.hooks.champion import BedrockRFTChampionHook
    from bedrock_rft_provider.hooks.storage import StorageHook

# The run id a dispatched run carries: ``job__<job name>`` (a duplicate event finds the run and skips).
RUN_PREFIX = "job__"


def _bedrock(hook: BedrockRFTHook | None) -> BedrockRFTHook:
    if hook is not None:
        return hook
    from bedrock_rft_provider.hooks.bedrock_rft import BedrockRFTHook

    return BedrockRFTHook()


def _champions(hook: BedrockRFTChampionHook | None) -> BedrockRFTChampionHook:
    if hook is not None:
        return hook
    from bedrock_rft_provider.hooks.champion import BedrockRFTChampionHook

    return BedrockRFTChampionHook()


def _storage(hook: StorageHook | None) -> StorageHook:
    if hook is not None:
        return hook
    from bedrock_rft_provider.hooks.storage import StorageHook

    return StorageHook()


def completed_job(
    params: Mapping[str, Any],
    dag_id: str,
    run_id: str,
    *,
    bedrock: BedrockRFTHook | None = None,
    champions: BedrockRFTChampionHook | None = None,
    storage: StorageHook | None = None,
) -> dict[str, Any]:
    """The job ``params["job"]`` names, re-read from Bedrock (an event is only a hint), as
    ``{job_arn, job_name, custom_model_arn, train_uri, validation_uri, test_uri, output_prefix}``;
    {} (skip the rest) unless it Completed and this run is the one that handles it: the first run to
    claim it (``jobs.handling``), not a run that already promoted it, and for a dispatched run not a
    job its own run post-trains. Raises ``BedrockRFTError`` when a dispatched run's id names another job."""
    from bedrock_rft_provider.errors import BedrockRFTError
    from bedrock_rft_provider.jobs.handling import claim, claim_uri, handled_elsewhere

    bedrock = _bedrock(bedrock)
    job = bedrock.describe_job(params["job"])
    dispatched = run_id.startswith(RUN_PREFIX)
    if dispatched and run_id != f"{RUN_PREFIX}{job['jobName']}":
        # A dispatched run is the job's by its id; another job in it would leave that one unhandled.
        raise BedrockRFTError(
            f"run {run_id} is for job {run_id[len(RUN_PREFIX) :]}, but job {params['job']} is "
            f"{job['jobName']}: a forged or mismatched event; nothing was handled"
        )
    if job["status"] != "Completed" or not job.get("outputModelArn"):
        print(f"RFT job {job['jobName']} is {job['status']}, not Completed: nothing to deploy")
        return {}
    if dispatched:
        handover = bedrock.job_tags(job["jobArn"]).get(HANDOVER_TAG)
        if handover == HANDOVER_IN_RUN:
            print(
                f"RFT job {job['jobName']} is post-trained by the run that submitted it (tag "
                f"{HANDOVER_TAG}={handover}): nothing to do here; trigger {dag_id} with this job to "
                "handle it here instead"
            )
            return {}
    output_prefix = f"s3://{params['bucket']}/post-training/{job['jobName']}"
    marker = claim_uri(output_prefix)
    holder = _storage(storage).create_once(marker, claim(dag_id, run_id))
    other = handled_elsewhere(holder, dag_id, run_id)
    if other:
        print(
            f"RFT job {job['jobName']} is handled by {other} ({marker}): not deploying it again; clear "
            f"that run to redo it, or delete {marker} to let another run take it"
        )
        return {}
    promoted = [
        v.version
        for v in _champions(champions).history(params["model_family"])
        if v.record.get("job_arn") == job["jobArn"] and v.record.get("run_id") == run_id
    ]
    if promoted:
        # A clear of a run that promoted: deploying again would pay for a deployment whose model the
        # champion deployment already serves, to evaluate it against itself.
        print(f"RFT job {job['jobName']} was promoted by this run (version {promoted[0]}): nothing to redo")
        return {}
    train_uri = job["trainingDataConfig"]["s3Uri"]
    validators = (job.get("validationDataConfig") or {}).get("validators") or []
    test_uri = params["test_data_uri"] or train_uri.rsplit("/", 1)[0] + "/test.jsonl"
    print(f"RFT job {job['jobName']} completed: model {job['outputModelArn']}, test split {test_uri}")
    return {
        "job_arn": job["jobArn"],
        "job_name": job["jobName"],
        "custom_model_arn": job["outputModelArn"],
        "train_uri": train_uri,
        "validation_uri": validators[0]["s3Uri"] if validators else "",
        "test_uri": test_uri,
        "output_prefix": output_prefix,
    }


def current_champion(
    params: Mapping[str, Any],
    *,
    bedrock: BedrockRFTHook | None = None,
    champions: BedrockRFTChampionHook | None = None,
) -> tuple[str, int]:
    """The model to beat and the champion's SSM version (0 = none): the champion's deployment, or the
    base model of the job ``params["job"]`` when ``params["model_family"]`` has no deployed champion."""
    champion = _champions(champions).current(params["model_family"])
    version = champion.version if champion else 0
    if champion and champion.record.get("deployment_arn"):
        print(f"Baseline: champion v{champion.version} {champion.record['deployment_arn']}")
        return str(champion.record["deployment_arn"]), version
    base = _bedrock(bedrock).describe_job(params["job"])["baseModelArn"].rsplit("/", 1)[-1]
    print(f"Baseline: no champion yet for {params['model_family']}; comparing with {base}")
    return str(base), version


def deployment_to_tear_down(
    deployment_arn: str | None, family: str, *, champions: BedrockRFTChampionHook | None = None
) -> str:
    """The tuned deployment (``deploy_tuned``'s result) to delete, unless it serves the champion of
    ``family``; "" = nothing to delete."""
    deployment_arn = str(deployment_arn or "")
    if deployment_arn and _champions(champions).serves_champion(family, deployment_arn):
        print(f"Keeping {deployment_arn}: it serves the champion")
        return ""
    return deployment_arn


def job_runs(
    triggering_asset_events: Mapping[str, Iterable[Any]] | None,
    *,
    bedrock: BedrockRFTHook | None = None,
    storage: StorageHook | None = None,
) -> list[dict[str, Any]]:
    """One ``{"trigger_run_id": "job__<job name>", "conf": {...params, "job": <job ARN>}}`` per
    completed job in a dispatcher run's triggering asset events (asset -> events); malformed messages
    are printed, never used. A job a retraining run handed over runs with that run's params
    (:func:`handed_over`). A job of another account or region than the Bedrock connection's is
    dropped with a line: it could not be described there, and its run would use up its run id."""
    from bedrock_rft_provider.triggers.job_events import job_state_changes, jobs_in_scope

    events = [e for batch in (triggering_asset_events or {}).values() for e in batch]
    changes, problems = job_state_changes(events)
    completed_changes = [c for c in changes if c.status == "Completed"]
    if completed_changes:
        bedrock = _bedrock(bedrock)
        completed_changes, foreign = jobs_in_scope(
            completed_changes,
            account_id=bedrock.account_id or None,  # STS GetCallerIdentity: needs no IAM grant
            region=bedrock.conn_region_name or None,
        )
        problems = [*problems, *foreign]
    for problem in problems:
        print(f"Ignored: {problem}")
    completed = {c.job_name: c.job_arn for c in completed_changes}
    print(f"Completed jobs in {len(events)} asset event(s): {sorted(completed) or 'none'}")
    if not completed:
        return []
    bedrock, storage = _bedrock(bedrock), _storage(storage)
    return [
        {
            "trigger_run_id": f"{RUN_PREFIX}{name}",
            "conf": {**handed_over(arn, bedrock=bedrock, storage=storage), "job": arn},
        }
        for name, arn in sorted(completed.items())
    ]


def handed_over(
    job_arn: str, *, bedrock: BedrockRFTHook | None = None, storage: StorageHook | None = None
) -> dict[str, Any]:
    """The params the retraining run that submitted the job left for it; {} (the defaults) when
    there are none or they cannot be read (said in one line)."""
    from botocore.exceptions import BotoCoreError, ClientError

    from bedrock_rft_provider.jobs.handling import handover_params, handover_uri

    try:
        output_uri = _bedrock(bedrock).describe_job(job_arn)["outputDataConfig"]["s3Uri"]
        store, uri = _storage(storage), handover_uri(output_uri)
        if not store.exists(uri):
            return {}
        params, problem = handover_params(store.read_bytes(uri))
    except (BotoCoreError, ClientError, KeyError) as exc:
        params, problem = {}, " ".join(str(exc).split())
    if problem:
        print(f"Ignored the handover of {job_arn} (the run takes the defaults): {problem}")
    return params
