"""The demo's closing summary: what the example DAGs wrote (dataset report, metrics, evaluation, gate
decision, champion, backfilled intervals), read back from the sandbox's S3 and SSM and Airflow's XCom.

Split from ``demo`` (which runs the DAGs); ``demo.summarize`` is this module's :func:`summarize`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

from bedrock_rft_provider.task_families import TaskFamily


def _gate_decision(dag_id: str) -> dict[str, Any] | None:
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        row = (
            session.query(XComModel)
            .filter(
                XComModel.dag_id == dag_id,
                XComModel.task_id == "quality_gate",
                XComModel.key == "gate_decision",
            )
            .order_by(XComModel.timestamp.desc())
            .first()
        )
        if row is None:
            return None
        value = row.value
    return json.loads(value) if isinstance(value, (str, bytes)) else value


def _read_json(s3: Any, bucket: str, key: str) -> dict[str, Any]:
    return json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())


def _keys(s3: Any, bucket: str, prefix: str) -> list[str]:
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return [o["Key"] for page in pages for o in page.get("Contents", [])]


def _p_value(value: Any) -> str:
    return f"{value:.2g}" if isinstance(value, (int, float)) else "n/a"


def summarize(
    session: Any,
    endpoint_url: str,
    out: Path,
    days: Sequence[date],
    family: TaskFamily,
    *,
    bucket: str,
    backfill_means: str,
) -> list[str]:
    """The demo's closing summary, read back from what the DAGs wrote (S3, SSM, XCom): one line per
    item; the evaluation report is copied to ``out/report.html``. ``days`` are the backfilled intervals'
    starts, ``bucket`` the demo's bucket, ``backfill_means`` the line that explains a backfill."""
    champion_family = family.model_family
    from bedrock_rft_provider.jobs.metrics import (
        HACKING_ATTEMPT_SHARE,
        TRAIN_REWARD,
        is_metrics_key,
        parse_metrics_files,
    )

    s3 = session.client("s3", endpoint_url=endpoint_url)
    ssm = session.client("ssm", endpoint_url=endpoint_url)
    lines = [
        "",
        "=" * 78,
        "bedrock-rft demo — SANDBOX RUN (training dynamics and model answers are simulated;",
        "data prep, reward code, packaging, requests and orchestration are real)",
        "=" * 78,
        f"Task family  {family.name}: {family.title}",
        f"Real         {family.real}",
        f"Simulated    {family.simulated}",
    ]
    dataset_keys = _keys(s3, bucket, f"datasets/{champion_family}/")
    report_key = next(k for k in dataset_keys if k.endswith("report.json"))
    report = _read_json(s3, bucket, report_key)
    counts = report.get("counts", {})
    lines.append(f"Dataset      {counts}  (s3://{bucket}/{report_key.rsplit('/', 1)[0]}/)")
    lines.extend(_calibration_lines(s3, bucket))
    metric_keys = [k for k in _keys(s3, bucket, "retraining/") if is_metrics_key(k)]
    if metric_keys:
        metrics = parse_metrics_files(
            {k: s3.get_object(Bucket=bucket, Key=k)["Body"].read().decode() for k in metric_keys}
        )
        curve = metrics.values(TRAIN_REWARD)
        if curve:
            lines.append(
                f"Training     reward {curve[0]:.3f} -> {curve[-1]:.3f} over {len(curve)} steps "
                f"({TRAIN_REWARD}, simulated policy)"
            )
        hacking = metrics.values(HACKING_ATTEMPT_SHARE)
        if hacking:
            lines.append(
                f"Hacking      share of reward-hacking attempts {hacking[0]:.2f} -> {hacking[-1]:.2f} over "
                f"{len(hacking)} steps (what the reward paid for them taught the simulated policy)"
            )
    summary_key = next(k for k in _keys(s3, bucket, "retraining/") if k.endswith("/evaluation/summary.json"))
    summary = _read_json(s3, bucket, summary_key)
    base = summary.get("baseline", {})
    low, high = summary["ci95"]
    lines.append(
        f"Evaluation   tuned {summary['mean_reward']:.3f} (95% CI {low:.3f}-{high:.3f}) vs "
        f"baseline {base.get('mean_reward', float('nan')):.3f} on n={summary['n']}; "
        f"delta {summary.get('delta', float('nan')):+.3f}, p={_p_value(summary.get('p_value'))}"
    )
    if summary.get("pass_at_k"):
        base_pass = base.get("pass_at_k") or {}
        lines.append(
            "pass@k       "
            + ", ".join(
                f"{name} {value:.3f} (baseline {base_pass.get(name, float('nan')):.3f})"
                for name, value in summary["pass_at_k"].items()
            )
        )
    from bedrock_rft_provider.evaluation.tool_calls import summary_lines

    lines.extend(summary_lines(summary))
    if summary.get("spend"):
        from bedrock_rft_provider.jobs.spend import describe_spend

        lines.append(f"Spend        {describe_spend(summary['spend'])}")
    decision = _gate_decision("bedrock_rft_retraining")
    if decision:
        lines.append(f"Gate         {'PROMOTE' if decision.get('promote') else 'REJECT'}")
        lines.extend(f"               - {reason}" for reason in decision.get("reasons", []))
    try:
        parameter = ssm.get_parameter(Name=f"/bedrock-rft/champion/{champion_family}")["Parameter"]
        champion = json.loads(parameter["Value"])
        lines.append(
            f"Champion     {champion.get('custom_model_arn')} (deployment {champion.get('deployment_arn')})"
        )
    except ssm.exceptions.ParameterNotFound:
        lines.append("Champion     none (the challenger was not promoted)")
    html_key = summary_key.replace("summary.json", "report.html")
    local_report = out / "report.html"
    local_report.write_bytes(s3.get_object(Bucket=bucket, Key=html_key)["Body"].read())
    lines.append(f"Report       {local_report.resolve()}  (copied from s3://{bucket}/{html_key})")
    lines.append(f"Backfill     {backfill_means}")
    for day in days:
        day_summary = _read_json(s3, bucket, f"evaluation/{champion_family}/{day}/summary.json")
        who = (day_summary.get("champion") or {}).get("version")
        model = "champion v" + str(who) if who else "base model (no champion yet)"
        lines.append(
            f"Backfill     interval {day}: {model}: mean reward {day_summary['mean_reward']:.3f} "
            f"on n={day_summary['n']} (s3://{bucket}/evaluation/{champion_family}/{day}/)"
        )
    return lines


def _calibration_lines(s3: Any, bucket: str) -> list[str]:
    """The judge calibration's agreement and confusion matrix, when the run calibrated a judge."""
    keys = [k for k in _keys(s3, bucket, "retraining/") if k.endswith("/judge_calibration.json")]
    if not keys:
        return []
    report = _read_json(s3, bucket, keys[-1])

    def row(human: str) -> str:
        cells = report["confusion"][human]
        return (
            f"human {human} -> judge pass {cells['pass']} / fail {cells['fail']} / none {cells['no_verdict']}"
        )

    return [
        f"Calibration  judge {report['judge_component']!r} (SIMULATED judge) agrees with the labels on "
        f"{report['agreed']}/{report['n']} = {report['agreement']:.2f} "
        f"(threshold {report['min_agreement']:.2f})",
        f"             {row('pass')}; {row('fail')}",
    ]
