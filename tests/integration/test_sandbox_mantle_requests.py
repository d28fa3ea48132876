"""The sandbox's OpenAI-compatible API refuses what Bedrock refuses, in OpenAI's error shapes, before any
job starts: bearer keys, bad files, bad job requests, unknown models, throttling, and what it does not
emulate."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import openai
import pytest
from aws_bedrock_token_generator import provide_token
from botocore.credentials import CredentialProvider, Credentials

from bedrock_rft_provider.sandbox.config import SandboxConfig
from bedrock_rft_provider.sandbox.server import Sandbox
from unit.sandbox.mantle_helpers import MODEL, openai_client, rft_method, upload
from unit.sandbox.sandbox_helpers import jsonl, numeric_records

pytestmark = pytest.mark.integration

GRADER = "arn:aws:lambda:us-west-2:123456789012:function:grader"


class _Static(CredentialProvider):
    def __init__(self, access_key: str, secret_key: str) -> None:
        self.credentials = Credentials(access_key, secret_key)

    def load(self) -> Credentials:
        return self.credentials


def short_term_key(access_key: str = "testing", secret_key: str = "testing") -> str:
    """A short-term Bedrock API key made by AWS's own generator package."""
    return provide_token(
        region="us-west-2",
        aws_credentials_provider=_Static(access_key, secret_key),
        expiry=dt.timedelta(hours=1),
    )


@pytest.fixture(scope="module")
def client(bedrock_rft_sandbox: Sandbox) -> openai.OpenAI:
    return openai_client(bedrock_rft_sandbox)


@pytest.fixture(scope="module")
def train_file(client: openai.OpenAI) -> str:
    return upload(client, numeric_records(120))


def error_of(excinfo: pytest.ExceptionInfo[openai.APIStatusError]) -> dict[str, Any]:
    body = excinfo.value.response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"message", "type", "param", "code"}
    return dict(body["error"])


# ----- bearer keys ----------------------------------------------------------------------------------
def test_a_short_term_key_from_the_sandbox_credentials_is_accepted(bedrock_rft_sandbox: Sandbox) -> None:
    client = openai_client(bedrock_rft_sandbox, api_key=short_term_key())
    assert client.fine_tuning.jobs.list(limit=1).object == "list"


@pytest.mark.parametrize(
    ("api_key", "says"),
    [
        ("not-a-key", "Incorrect API key provided"),
        ("bedrock-api-key-bm90IGEgVVJM", "not a presigned CallWithBearerToken request"),
        ("bedrock-api-key-!!!", "not base64"),
    ],
)
def test_a_wrong_key_gets_401_invalid_api_key(bedrock_rft_sandbox: Sandbox, api_key: str, says: str) -> None:
    with pytest.raises(openai.AuthenticationError) as excinfo:
        openai_client(bedrock_rft_sandbox, api_key=api_key).files.list()
    error = error_of(excinfo)
    assert (
        excinfo.value.status_code == 401 and error["code"] == "invalid_api_key" and says in error["message"]
    )


def test_a_short_term_key_signed_with_another_secret_gets_401(bedrock_rft_sandbox: Sandbox) -> None:
    forged = short_term_key(secret_key="not-the-secret")
    with pytest.raises(openai.AuthenticationError) as excinfo:
        openai_client(bedrock_rft_sandbox, api_key=forged).files.list()
    assert "signature does not match" in error_of(excinfo)["message"]


def test_a_request_without_authorization_gets_401(bedrock_rft_sandbox: Sandbox) -> None:
    answer = httpx.get(f"{bedrock_rft_sandbox.openai_base_url}/fine_tuning/jobs", timeout=10)
    assert answer.status_code == 401 and answer.json()["error"]["code"] == "invalid_api_key"
    assert "didn't provide an API key" in answer.json()["error"]["message"]


# ----- files ----------------------------------------------------------------------------------------
def test_an_upload_with_a_bad_record_is_refused_naming_file_and_line(client: openai.OpenAI) -> None:
    records = numeric_records(3)
    records[1]["messages"][1]["role"] = "robot"
    with pytest.raises(openai.BadRequestError) as excinfo:
        client.files.create(file=("train.jsonl", jsonl(records) + b"\n{not json"), purpose="fine-tune")
    error = error_of(excinfo)
    assert (error["param"], error["code"]) == ("file", "invalid_file_format")
    assert "train.jsonl:2:" in error["message"] and "robot" in error["message"]
    assert "train.jsonl:4: not valid JSON" in error["message"]


@pytest.mark.parametrize(
    ("filename", "purpose", "param"),
    [("train.jsonl", "assistants", "purpose"), ("train.csv", "fine-tune", "file")],
)
def test_an_upload_with_another_purpose_or_format_is_refused(
    client: openai.OpenAI, filename: str, purpose: str, param: str
) -> None:
    with pytest.raises(openai.BadRequestError) as excinfo:
        client.files.create(file=(filename, jsonl(numeric_records(2))), purpose=purpose)  # type: ignore[arg-type]
    assert error_of(excinfo)["param"] == param


def test_an_unknown_file_id_is_404(client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as excinfo:
        client.files.retrieve("no-such-file")
    assert "no-such-file" in error_of(excinfo)["message"]


# ----- job requests -------------------------------------------------------------------------------------
def create_error(client: openai.OpenAI, **request: Any) -> dict[str, Any]:
    with pytest.raises(openai.BadRequestError) as excinfo:
        client.fine_tuning.jobs.create(**request)
    return error_of(excinfo)


def test_suffix_is_refused_as_bedrock_documents(client: openai.OpenAI, train_file: str) -> None:
    error = create_error(
        client, model=MODEL, training_file=train_file, suffix="rft-example", method=rft_method(GRADER)
    )
    assert (error["param"], error["code"]) == ("suffix", "unsupported_parameter")


def test_a_model_outside_the_open_weight_three_is_refused(client: openai.OpenAI, train_file: str) -> None:
    error = create_error(
        client, model="amazon.nova-2-lite-v1:0:256k", training_file=train_file, method=rft_method(GRADER)
    )
    assert error["param"] == "model" and "openai.gpt-oss-20b" in error["message"]


@pytest.mark.parametrize(
    ("hyperparameters", "param"),
    [
        ({"n_epochs": 0}, "method.reinforcement.hyperparameters.n_epochs"),
        ({"n_epochs": 2.5}, "method.reinforcement.hyperparameters.n_epochs"),
        ({"batch_size": 1024}, "method.reinforcement.hyperparameters.batch_size"),
        ({"batch_size": True}, "method.reinforcement.hyperparameters.batch_size"),
        ({"learning_rate_multiplier": 0}, "method.reinforcement.hyperparameters.learning_rate_multiplier"),
        (
            {"learning_rate_multiplier": "fast"},
            "method.reinforcement.hyperparameters.learning_rate_multiplier",
        ),
        ({"eval_interval": 5}, "method.reinforcement.hyperparameters.eval_interval"),
    ],
)
def test_bad_hyperparameters_are_refused_naming_the_field(
    client: openai.OpenAI, train_file: str, hyperparameters: dict[str, Any], param: str
) -> None:
    method = rft_method(GRADER)
    method["reinforcement"]["hyperparameters"] = hyperparameters
    error = create_error(client, model=MODEL, training_file=train_file, method=method)
    assert error["param"] == param


def test_auto_hyperparameters_take_the_defaults(client: openai.OpenAI, train_file: str) -> None:
    method = rft_method(GRADER)
    method["reinforcement"]["hyperparameters"] = {"n_epochs": "auto", "batch_size": 8}
    job = client.fine_tuning.jobs.create(model=MODEL, training_file=train_file, method=method)  # type: ignore[arg-type]
    assert job.hyperparameters.n_epochs == 2 and job.hyperparameters.batch_size == 8
    assert job.hyperparameters.learning_rate_multiplier == 1.0


@pytest.mark.parametrize(
    ("request_update", "param"),
    [
        ({"hyperparameters": {"n_epochs": 2}}, "hyperparameters"),
        ({"integrations": []}, "integrations"),
        ({"method": {"type": "reinforcement", "reinforcement": {"grader": {"type": "string_check"}}}}, None),
        ({"training_file": "no-such-file"}, "training_file"),
        ({"validation_file": "no-such-file"}, "validation_file"),
    ],
)
def test_unknown_fields_other_graders_and_missing_files_are_refused(
    client: openai.OpenAI, train_file: str, request_update: dict[str, Any], param: str | None
) -> None:
    request = {"model": MODEL, "training_file": train_file, "method": rft_method(GRADER), **request_update}
    error = create_error(client, **request)
    if param is None:
        assert error["param"] == "method.reinforcement.grader.type" and "Lambda" in error["message"]
    else:
        assert error["param"] == param


def test_a_grader_that_is_not_a_lambda_arn_is_refused(client: openai.OpenAI, train_file: str) -> None:
    error = create_error(client, model=MODEL, training_file=train_file, method=rft_method("my-grader"))
    assert error["param"] == "method.reinforcement.grader.lambda.function"


def test_supervised_fine_tuning_is_not_emulated_and_not_retried(
    client: openai.OpenAI, train_file: str
) -> None:
    with pytest.raises(openai.InternalServerError) as excinfo:
        openai_client_with_retries(client).fine_tuning.jobs.create(model=MODEL, training_file=train_file)
    assert excinfo.value.status_code == 501 and excinfo.value.response.headers["x-should-retry"] == "false"
    assert "only reinforcement" in error_of(excinfo)["message"]  # type: ignore[arg-type]


def openai_client_with_retries(client: openai.OpenAI) -> openai.OpenAI:
    return client.with_options(max_retries=2)


def test_an_unknown_job_is_404(client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError):
        client.fine_tuning.jobs.retrieve("ftjob-nope")


def test_an_unknown_after_cursor_is_refused(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as excinfo:
        client.fine_tuning.jobs.list(after="ftjob-nope")
    assert error_of(excinfo)["param"] == "after"


# ----- chat, throttling, what is not emulated -------------------------------------------------------
def test_chat_with_an_unknown_model_is_404_model_not_found(client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as excinfo:
        client.chat.completions.create(
            model="openai.gpt-oss-20b:ft:nope", messages=[{"role": "user", "content": "hi"}]
        )
    assert error_of(excinfo)["code"] == "model_not_found"


def test_chat_without_a_user_message_is_refused(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as excinfo:
        client.chat.completions.create(model=MODEL, messages=[{"role": "system", "content": "be brief"}])
    assert error_of(excinfo)["param"] == "messages"


def test_an_unemulated_path_answers_501_naming_it(client: openai.OpenAI) -> None:
    with pytest.raises(openai.InternalServerError) as excinfo:
        client.with_options(max_retries=2).responses.create(model=MODEL, input="hi")
    error = error_of(excinfo)  # type: ignore[arg-type]
    assert excinfo.value.status_code == 501 and "POST /v1/responses" in error["message"]


def test_throttling_answers_429_in_openai_shape_and_the_client_retries() -> None:
    config = SandboxConfig(time_scale=0, throttle_rate={"CreateChatCompletion": 1.0})
    with Sandbox(config=config) as throttled:
        client = openai_client(throttled)
        assert client.fine_tuning.jobs.list().object == "list"  # other APIs are not throttled
        with pytest.raises(openai.RateLimitError) as excinfo:
            client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "1+1?"}])
    error = error_of(excinfo)  # type: ignore[arg-type]
    assert (excinfo.value.status_code, error["code"]) == (429, "rate_limit_exceeded")
    assert "x-should-retry" not in excinfo.value.response.headers  # the client's own backoff applies


def test_the_readme_openai_example_runs(capsys: pytest.CaptureFixture[str]) -> None:
    from unit.test_readme import PYTHON

    (example,) = [code for code in PYTHON if "openai_base_url" in code]
    exec(compile(example, "README.md", "exec"), {})
    assert "CompletionUsage(" in capsys.readouterr().out
