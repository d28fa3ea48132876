"""Scenarios 6 and 9: the extra links read through the REST API, and the resources left in AWS."""

from __future__ import annotations

from collections import Counter
from urllib.parse import unquote, urlparse

from tests.e2e import aws, backfill, openweight, scenarios
from tests.e2e.stack import Stack

# Tasks whose links must be there: the happy run trains, deploys, evaluates and promotes (scenario 5
# needs its champion), so an empty deployment or promotion link is a fault, not "absent".
REQUIRED_LINKS = {"train", "deploy_tuned", "evaluate", "promote"}


def well_formed(url: str) -> str | None:
    """Why ``url`` is not a usable AWS console link, or None when it is."""
    parsed = urlparse(url)
    if parsed.scheme != "https" or not parsed.netloc.endswith("console.aws.amazon.com"):
        return "is not an https AWS console URL"
    if aws.REGION not in url:
        return f"does not name the region {aws.REGION}"
    if any(marker in unquote(url) for marker in ("None", "{", "}", "=&")) or url.endswith("="):
        return "has an unfilled placeholder"
    return None


def extra_links(stack: Stack) -> str:
    """6. Every extra link of the job, deployment, evaluation and promotion tasks is well-formed."""
    checked: list[str] = []
    runs = [(scenarios.DAG_ID, stack.state["happy_run"])]
    runs += [(backfill.DAG_ID, run_id) for run_id in stack.state.get("backfill_runs", [])[:1]]
    for dag_id, run_id in runs:
        for ti in stack.api.task_instances(dag_id, run_id):
            links = stack.api.links(dag_id, run_id, ti["task_id"])["extra_links"]
            for name, url in links.items():
                if ti["task_id"] in REQUIRED_LINKS or ti["task_id"] == "evaluate_champion":
                    assert url, f"{ti['task_id']}: link {name!r} is empty"
                if url:
                    problem = well_formed(url)
                    assert problem is None, f"{ti['task_id']}: link {name!r} {problem}: {url}"
                    checked.append(f"{ti['task_id']}:{name}")
    missing = REQUIRED_LINKS - {c.split(":")[0] for c in checked}
    assert not missing, f"no link on {sorted(missing)}"
    job_link = next(url for t, url in _links_of(stack, "train").items() if url)
    job_arn = stack.api.xcom(scenarios.DAG_ID, stack.state["happy_run"], "train")["job_arn"]
    assert job_arn in unquote(job_link), f"the job link does not name the job: {job_link}"
    # Issue 10, fault 11: a try's link lookup must never miss its XCom (an ERROR line users read).
    noisy = [
        str(p.relative_to(stack.logs))
        for p in stack.logs.rglob("*.log")
        if b"XCom not found" in p.read_bytes()
    ]
    assert not noisy, f"'XCom not found' logged in {noisy}"
    return (
        f"{len(checked)} links well-formed: {', '.join(sorted(set(checked)))}; no 'XCom not found' in any log"
    )


def _links_of(stack: Stack, task_id: str) -> dict[str, str | None]:
    return dict(stack.api.links(scenarios.DAG_ID, stack.state["happy_run"], task_id)["extra_links"])


def resources(stack: Stack) -> str:
    """9. What the sandbox holds after every scenario: no duplicates, no stray deployment."""
    sandbox = stack.sandbox
    bedrock = sandbox.client("bedrock")
    jobs = aws.rft_jobs(sandbox)
    trained_runs = len(stack.state.get("runs", []))
    assert len(jobs) == trained_runs, f"{len(jobs)} jobs for {trained_runs} retraining runs: " + str(
        [(j["jobName"], j["status"]) for j in jobs]
    )
    fine_tuning = openweight.fine_tuning_jobs(sandbox)
    open_weight_runs = len(stack.state.get("open_weight_runs", []))
    assert len(fine_tuning) == open_weight_runs, (
        f"{len(fine_tuning)} fine-tuning jobs for {open_weight_runs} open-weight runs: {sorted(fine_tuning)}"
    )
    models = bedrock.list_custom_models()["modelSummaries"]
    completed = [j for j in jobs if j["status"] == "Completed"]
    assert len(models) == len(completed), f"{len(models)} custom models for {len(completed)} completed jobs"
    assert len({m["modelName"] for m in models}) == len(models), "duplicate custom model names"
    champions = aws.champion_deployments(sandbox)  # every family's serving deployment
    deployments = bedrock.list_custom_model_deployments()["modelDeploymentSummaries"]
    live = [d for d in deployments if d.get("status") not in {"Deleting", "Deleted"}]
    strays = [d["customModelDeploymentArn"] for d in live if d["customModelDeploymentArn"] not in champions]
    assert not strays, f"deployments left that are not the champion's: {strays}"
    lam = sandbox.client("lambda")
    functions = lam.list_functions()["Functions"]
    versions = {
        f["FunctionName"]: [
            v
            for v in lam.list_versions_by_function(FunctionName=f["FunctionName"])["Versions"]
            if v["Version"] != "$LATEST"
        ]
        for f in functions
    }
    for name, published in versions.items():
        shas = Counter(v["CodeSha256"] for v in published)
        assert all(n == 1 for n in shas.values()), f"{name}: the same code published twice: {shas}"
    objects = [k for k in aws.bucket_keys(sandbox, "datasets/")]
    etags = Counter(
        sandbox.client("s3").head_object(Bucket=aws.BUCKET, Key=k)["ETag"]
        for k in objects
        if k.endswith(".jsonl")
    )
    duplicates = [e for e, n in etags.items() if n > 1]
    assert not duplicates, f"the same dataset file stored {len(duplicates)} times over"
    return (
        f"{len(jobs)} jobs ({len(completed)} completed), {len(fine_tuning)} fine-tuning job(s), "
        f"{len(models)} custom models, {len(live)} live "
        f"deployment(s) (champions'), {len(functions)} function(s) with "
        f"{sum(len(v) for v in versions.values())} version(s), {len(objects)} dataset objects, no duplicates"
    )
