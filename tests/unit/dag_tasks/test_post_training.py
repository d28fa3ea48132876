"""The post-training DAGs' task logic, run without Airflow: fake hooks stand in for Bedrock, S3 and SSM."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

import pytest
from botocore.exceptions import ClientError

from bedrock_rft_provider.dag_tasks import post_training
from bedrock_rft_provider.errors import BedrockRFTError
from bedrock_rft_provider.evaluation.champion import ChampionVersion
from bedrock_rft_provider.jobs.events import job_state_change_event
from bedrock_rft_provider.triggers.job_events import HANDOVER_EVENTS, HANDOVER_IN_RUN, HANDOVER_TAG

DAG_ID = "bedrock_rft_post_training"
JOB_ARN = "arn:aws:bedrock:us-east-1:123456789012:model-customization-job/amazon.nova-2-lite-v1:0:256k/abc"
OUTPUT_URI = "s3://out/rft-output/"
PARAMS = {"job": JOB_ARN, "bucket": "post", "model_family": "fam", "test_data_uri": ""}


def _job(**changes: Any) -> dict[str, Any]:
    return {
        "jobName": "rft-a",
        "jobArn": JOB_ARN,
        "status": "Completed",
        "outputModelArn": "arn:model",
        "baseModelArn": "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-2-lite-v1:0:256k",
        "trainingDataConfig": {"s3Uri": "s3://data/d/train.jsonl"},
        "validationDataConfig": {"validators": [{"s3Uri": "s3://data/d/validation.jsonl"}]},
        "outputDataConfig": {"s3Uri": OUTPUT_URI},
        **changes,
    }


class FakeBedrock:
    account_id = "123456789012"
    conn_region_name = "us-east-1"

    def __init__(self, job: dict[str, Any] | None = None, tags: dict[str, str] | None = None) -> None:
        self.job = job or _job()
        self.tags = tags or {}

    def describe_job(self, identifier: str) -> dict[str, Any]:
        if identifier not in (JOB_ARN, "rft-a"):
            raise ClientError({"Error": {"Code": "ResourceNotFoundException", "Message": "no job"}}, "Get")
        return dict(self.job)

    def job_tags(self, job_arn: str) -> dict[str, str]:
        assert job_arn == JOB_ARN
        return dict(self.tags)


class FakeStorage:
    """S3 as a dict; ``create_once`` keeps the first writer's bytes, as the conditional write does."""

    def __init__(self, files: dict[str, bytes] | None = None) -> None:
        self.files = dict(files or {})

    def create_once(self, uri: str, data: bytes) -> bytes:
        return self.files.setdefault(uri, data)

    def exists(self, uri: str) -> bool:
        return uri in self.files

    def read_bytes(self, uri: str) -> bytes:
        return self.files[uri]


class FakeChampions:
    def __init__(self, *records: dict[str, Any]) -> None:
        when = datetime(2026, 1, 1, tzinfo=timezone.utc)
        self.versions = [ChampionVersion(n, when, record) for n, record in enumerate(records, 1)]

    def history(self, family: str) -> list[ChampionVersion]:
        return list(self.versions)

    def current(self, family: str) -> ChampionVersion | None:
        return self.versions[-1] if self.versions else None

    def serves_champion(self, family: str, deployment_arn: str) -> bool:
        return bool(self.versions) and self.versions[-1].record.get("deployment_arn") == deployment_arn


def _completed(
    run_id: str, bedrock: Any = None, storage: Any = None, champions: Any = None
) -> dict[str, Any]:
    return post_training.completed_job(
        PARAMS,
        DAG_ID,
        run_id,
        bedrock=bedrock or FakeBedrock(),
        storage=storage if storage is not None else FakeStorage(),
        champions=champions or FakeChampions(),
    )


def test_a_completed_job_gives_its_model_splits_and_output_prefix() -> None:
    storage = FakeStorage()
    assert _completed("manual__1", storage=storage) == {
        "job_arn": JOB_ARN,
        "job_name": "rft-a",
        "custom_model_arn": "arn:model",
        "train_uri": "s3://data/d/train.jsonl",
        "validation_uri": "s3://data/d/validation.jsonl",
        "test_uri": "s3://data/d/test.jsonl",  # next to the training data
        "output_prefix": "s3://post/post-training/rft-a",
    }
    assert json.loads(storage.files["s3://post/post-training/rft-a/handled-by.json"]) == {
        "dag_id": DAG_ID,
        "run_id": "manual__1",
    }


def test_a_job_is_handled_by_the_first_run_to_claim_it_and_by_a_clear_of_that_run(capsys: Any) -> None:
    storage = FakeStorage()
    first = _completed("job__rft-a", storage=storage)
    assert first and _completed("job__rft-a", storage=storage) == first  # a clear is a rerun
    assert _completed("manual__2", storage=storage) == {}
    assert f"handled by {DAG_ID}/job__rft-a" in capsys.readouterr().out


def test_a_dispatched_run_for_another_job_fails_without_claiming() -> None:
    storage = FakeStorage()
    with pytest.raises(BedrockRFTError, match=r"run job__rft-b is for job rft-b, but job .* is rft-a"):
        _completed("job__rft-b", storage=storage)
    assert storage.files == {}


@pytest.mark.parametrize("job", [_job(status="Failed"), _job(outputModelArn=None)])
def test_a_job_without_a_completed_model_is_skipped(job: dict[str, Any]) -> None:
    storage = FakeStorage()
    assert _completed("manual__1", bedrock=FakeBedrock(job), storage=storage) == {}
    assert storage.files == {}


def test_a_dispatched_run_skips_a_job_its_own_retraining_run_post_trains(capsys: Any) -> None:
    in_run = FakeBedrock(tags={HANDOVER_TAG: HANDOVER_IN_RUN})
    assert _completed("job__rft-a", bedrock=in_run) == {}
    assert f"trigger {DAG_ID} with this job" in capsys.readouterr().out
    # A manual run handles it whatever the tag says; a handed-over job is handled when dispatched.
    assert _completed("manual__1", bedrock=in_run)
    assert _completed("job__rft-a", bedrock=FakeBedrock(tags={HANDOVER_TAG: HANDOVER_EVENTS}))


def test_a_clear_of_a_run_that_promoted_the_job_redeploys_nothing(capsys: Any) -> None:
    champions = FakeChampions({"job_arn": JOB_ARN, "run_id": "manual__1"})
    assert _completed("manual__1", champions=champions) == {}
    assert "was promoted by this run (version 1)" in capsys.readouterr().out
    assert _completed("manual__2", champions=champions)  # another run's promotion of it is not this run's


def test_current_champion_is_the_deployment_else_the_jobs_base_model() -> None:
    champions = FakeChampions({"deployment_arn": "arn:dep"})
    assert post_training.current_champion(PARAMS, champions=champions) == ("arn:dep", 1)
    base = post_training.current_champion(PARAMS, bedrock=FakeBedrock(), champions=FakeChampions())
    assert base == ("amazon.nova-2-lite-v1:0:256k", 0)


def test_deployment_to_tear_down_keeps_the_champions_deployment() -> None:
    champions = FakeChampions({"deployment_arn": "arn:dep"})
    assert post_training.deployment_to_tear_down("arn:dep", "fam", champions=champions) == ""
    assert post_training.deployment_to_tear_down("arn:new", "fam", champions=champions) == "arn:new"
    assert post_training.deployment_to_tear_down(None, "fam", champions=champions) == ""


def _asset_events(*jobs: tuple[str, str]) -> dict[str, list[dict[str, Any]]]:
    messages: list[Any] = ["not json"]
    for n, (name, status) in enumerate(jobs):
        job = {"jobName": name, "jobArn": JOB_ARN.replace("/abc", f"/{name}"), "status": status}
        event = job_state_change_event(
            job, account="123456789012", region="us-east-1", event_id=str(n), time="t"
        )
        messages.append({"MessageId": str(n), "Body": json.dumps(event)})
    return {"asset": [{"extra": {"payload": {"message_batch": messages}}}]}


def test_job_runs_start_one_run_per_completed_job_with_its_handover(capsys: Any) -> None:
    handover = {"model_family": "handed", "reward": "m:f", "role_arn": "dropped: not a post-training param"}
    storage = FakeStorage({OUTPUT_URI + "post-training-params.json": json.dumps(handover).encode()})
    bedrock = FakeBedrock()
    bedrock.describe_job = lambda identifier: _job()  # type: ignore[method-assign]
    runs = post_training.job_runs(
        _asset_events(("rft-b", "Completed"), ("rft-c", "InProgress"), ("rft-a", "Completed")),
        bedrock=bedrock,
        storage=storage,
    )
    assert [r["trigger_run_id"] for r in runs] == ["job__rft-a", "job__rft-b"]
    assert runs[0]["conf"] == {
        "model_family": "handed",
        "reward": "m:f",
        "job": JOB_ARN.replace("/abc", "/rft-a"),
    }
    out = capsys.readouterr().out
    assert "Ignored: " in out and "Completed jobs in 1 asset event(s): ['rft-a', 'rft-b']" in out


def test_job_runs_drop_jobs_of_another_account_or_region(capsys: Any) -> None:
    events = _asset_events(("rft-a", "Completed"), ("rft-b", "Completed"), ("rft-c", "Completed"))
    messages = events["asset"][0]["extra"]["payload"]["message_batch"]
    for message, arn in ((messages[2], "us-east-1:999999999999"), (messages[3], "eu-west-1:123456789012")):
        message["Body"] = message["Body"].replace("us-east-1:123456789012", arn)
    runs = post_training.job_runs(events, bedrock=FakeBedrock(), storage=FakeStorage())
    assert [r["trigger_run_id"] for r in runs] == ["job__rft-a"]
    out = capsys.readouterr().out
    assert "account 999999999999, not the connection's 123456789012" in out
    assert "region eu-west-1" in out
    assert "Completed jobs in 1 asset event(s): ['rft-a']" in out


def test_job_runs_refuse_odd_characters_in_a_message_with_one_line_each(capsys: Any) -> None:
    """A lone surrogate in a body used to raise (UnicodeEncodeError while sizing it); a NUL, control or
    non-ASCII character in a job ARN used to reach a run's conf."""
    events = _asset_events(("rft-a", "Completed"), ("rft-b", "Completed"), ("rft-c", "Completed"))
    messages = events["asset"][0]["extra"]["payload"]["message_batch"]
    messages[1]["Body"] = messages[1]["Body"].replace("/rft-a", "/rft-a\ud800")  # lone surrogate
    messages[2]["Body"] = messages[2]["Body"].replace("/rft-b", "/rft-b\\u0000")  # escaped NUL
    messages[3]["Body"] = messages[3]["Body"].replace("/rft-c", "/rft-\u00e9")  # non-ASCII
    messages.append({"Body": "\ud800" + messages[3]["Body"]})  # not JSON either
    assert post_training.job_runs(events, bedrock=FakeBedrock(), storage=FakeStorage()) == []
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 6 and lines[-1].endswith("none")
    assert sum("jobArn" in line and "malformed" in line for line in lines) == 3
    assert "message 4: message body is not JSON" in lines[4]


def test_job_runs_without_completed_jobs_start_nothing(capsys: Any) -> None:
    assert post_training.job_runs(None) == []
    assert post_training.job_runs(_asset_events(("rft-a", "Failed"))) == []  # no hook needed
    assert "Completed jobs in 1 asset event(s): none" in capsys.readouterr().out


def test_an_unreadable_handover_runs_with_the_defaults(capsys: Any) -> None:
    broken = FakeStorage({OUTPUT_URI + "post-training-params.json": b"\xff not json"})
    assert post_training.handed_over(JOB_ARN, bedrock=FakeBedrock(), storage=broken) == {}
    assert "Ignored the handover of" in capsys.readouterr().out
    assert post_training.handed_over(JOB_ARN, bedrock=FakeBedrock(), storage=FakeStorage()) == {}  # none left
    assert post_training.handed_over("rft-gone", bedrock=FakeBedrock(), storage=FakeStorage()) == {}
    assert "ResourceNotFoundException" in capsys.readouterr().out
