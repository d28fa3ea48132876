"""The retraining DAG on the open-weight backend: ``base_model_id=openai.gpt-oss-20b`` trains through the
sandbox's OpenAI-compatible API, skips the deployment step, evaluates, gates and promotes the fine-tuned
model; a rerun reattaches to its one fine-tuning job."""

from __future__ import annotations

import copy
import subprocess
import sys
from datetime import datetime, timezone
from typing import Any

import pytest

from bedrock_rft_provider.jobs.backends import OPEN_WEIGHT, choose_backend
from support.example_dags import EXAMPLE_DAGS, PROMOTABLE, read_champion, run_example_dag
from unit.test_readme_open_weight import readme_trigger_confs

DAG_ID = "bedrock_rft_retraining"
MODEL = "openai.gpt-oss-20b"
# A safety net (>= 10x the ~40-90 s this run takes with the suite on 2 busy cores), not a speed limit.
SLOW_TIMEOUT_S = 900
OPEN_WEIGHT_CONF: dict[str, Any] = {
    "base_model_id": MODEL,
    "model_family": "dag-open-weight",
    "dataset_input": "400",
    "min_eval_samples": 20,
    **PROMOTABLE,
}
# Every task but the deployment ran: the reward, preflight and dataset steps are the native path's.
RAN = {
    "prepare_dataset",
    "deploy_reward",
    "reward_preflight",
    "grader_guard",
    "calibrate_judge",  # no judge_component: it logs that there is no judge and succeeds
    "baseline_check",
    "worth_training",
    "spend_forecast",
    "train",
    "completes_here",  # completion=poll (the default): the run goes on after train
    "training_spend",
    "training_health",
    "deployment_needed",
    "tuned_model",
    "current_champion",
    "evaluate",
    "quality_gate",
    "approve_promotion",
    "promote",
    "deployment_to_tear_down",
    "tear_down",
    "outcome",
}


def test_parsing_the_retraining_dag_does_not_import_the_openai_client() -> None:
    """The open-weight backend loads ``openai`` when a task uses it, never when a DAG file is parsed."""
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); import bedrock_rft_retraining; "
        "print(sorted(m for m in ('openai', 'httpx2', 'aws_bedrock_token_generator') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(EXAMPLE_DAGS)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert out.stdout.strip().splitlines()[-1] == "[]", out.stderr[-2000:]


def test_deployment_needed_branches_around_deploy_tuned(dagbag: Any) -> None:
    dag = dagbag.get_dag(DAG_ID)
    branch = dag.get_task("deployment_needed")
    assert branch.downstream_task_ids == {"deploy_tuned", "tuned_model"}
    assert dag.get_task("deploy_tuned").downstream_task_ids == {"tuned_model"}
    # Runs after deploy_tuned (native) or after the branch skipped it (open-weight), never after a failure.
    assert dag.get_task("tuned_model").trigger_rule == "none_failed_min_one_success"
    assert "deploy_tuned" not in dag.get_task("evaluate").upstream_task_ids
    assert "deploy_tuned" not in dag.get_task("promote").upstream_task_ids


def test_the_readme_switch_to_gpt_oss_is_a_valid_conf_that_the_sandbox_run_uses(dagbag: Any) -> None:
    """The README's ``airflow dags trigger ... --conf`` passes the DAG's params and selects the open-weight
    backend; the sandbox run below uses that very conf (plus test-only family, sizes and guards)."""
    (conf,) = [c for c in readme_trigger_confs(DAG_ID) if "base_model_id" in c]
    dag = dagbag.get_dag(DAG_ID)
    params = copy.deepcopy(dag.params)
    params.update(conf)
    params = params.validate()  # raises naming the param that does not fit
    assert choose_backend(params["base_model_id"]) == OPEN_WEIGHT
    assert conf.items() <= OPEN_WEIGHT_CONF.items()


def _fine_tuning_jobs(sandbox: Any) -> dict[str, dict[str, Any]]:
    from openai import OpenAI

    client = OpenAI(base_url=sandbox.openai_base_url, api_key=sandbox.api_key)
    return {job.id: job.model_dump(warnings=False) for job in client.fine_tuning.jobs.list(limit=100)}


def _native_counts(sandbox: Any) -> tuple[int, int]:
    bedrock = sandbox.client("bedrock")
    jobs = bedrock.list_model_customization_jobs()["modelCustomizationJobSummaries"]
    deployments = bedrock.list_custom_model_deployments()["modelDeploymentSummaries"]
    return len(jobs), len(deployments)


def _xcom(run: Any, task_id: str) -> Any:
    return run.get_task_instance(task_id).xcom_pull(task_ids=task_id)


@pytest.mark.integration
@pytest.mark.slow
@pytest.mark.timeout(SLOW_TIMEOUT_S)
def test_open_weight_retraining_promotes_the_fine_tuned_model_without_a_deployment(
    dagbag: Any, sandbox_env: Any
) -> None:
    jobs_before = _fine_tuning_jobs(sandbox_env)
    native_before = _native_counts(sandbox_env)
    when = datetime(2026, 11, 25, tzinfo=timezone.utc)

    # From here on the run needs the evaluation operator's Chat Completions runner for open-weight model ids
    # (branch oweval): without it baseline_check cannot answer, worth_training skips training, and the
    # first assertion below fails listing train, training_health, ... as not run.
    run = run_example_dag(dagbag, DAG_ID, when, OPEN_WEIGHT_CONF)

    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    assert states["deploy_tuned"] == "skipped"
    assert states["reject"] == "skipped"
    assert {t for t, s in states.items() if s == "success"} == RAN
    # Trained on the open-weight backend: one new fine-tuning job, no native job, no deployment.
    train = _xcom(run, "train")
    assert train["backend"] == "open-weight" and train["status"] == "succeeded", train
    tuned_model = train["fine_tuned_model"]
    assert tuned_model and tuned_model.startswith(f"{MODEL}:"), train
    new_jobs = {k: v for k, v in _fine_tuning_jobs(sandbox_env).items() if k not in jobs_before}
    assert list(new_jobs) == [train["job_id"]]
    assert new_jobs[train["job_id"]]["model"] == MODEL
    assert _native_counts(sandbox_env) == native_before
    # The health check read the job's metric events: reward and entropy curves.
    health = _xcom(run, "training_health")
    assert health["reward_start"] is not None and health["reward_end"] is not None, health
    assert any(note.startswith("entropy ") for note in health["notes"]), health
    # Evaluated the fine-tuned model itself against the base model (no champion yet).
    assert _xcom(run, "tuned_model") == {"model_id": tuned_model, "deployment_arn": ""}
    assert _xcom(run, "current_champion") == MODEL
    summary = _xcom(run, "evaluate")  # needs the open-weight evaluation runner (branch oweval)
    assert summary["model_id"] == tuned_model
    assert summary["baseline"]["model_id"] == MODEL
    # Promoted: the champion record holds the fine-tuned model id and no deployment.
    champion = read_champion(sandbox_env, OPEN_WEIGHT_CONF["model_family"])
    assert champion is not None
    assert champion["model_id"] == tuned_model and not champion.get("deployment_arn"), champion

    # The same run again (a clear of every task): it reattaches to its one job and trains nothing new.
    again = run_example_dag(dagbag, DAG_ID, when, OPEN_WEIGHT_CONF)
    rerun = _xcom(again, "train")
    assert rerun["job_id"] == train["job_id"] and rerun["reattached"] is True, rerun
    assert set(_fine_tuning_jobs(sandbox_env)) == set(jobs_before) | {train["job_id"]}
    assert _native_counts(sandbox_env) == native_before
