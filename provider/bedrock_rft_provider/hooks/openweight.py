"""BedrockOpenWeightHook: Bedrock's OpenAI-compatible fine-tuning API, authenticated from the AWS connection.

Endpoint ``https://bedrock-mantle.<region>.api.aws/v1`` (user guide ``rft-open-weight-access-security``).
The ``openai`` SDK needs a Bedrock API key as its bearer token; a short-term key is a SigV4-presigned
``CallWithBearerToken`` request (``aws-bedrock-token-generator``, which presigns offline from
credentials). We mint it from the Airflow AWS connection's credentials and region, renew it before it
expires (the SDK asks for the key on every request), and never log it: the token is masked and the
objects holding it do not show it in their repr.

The connection's extra may point the endpoint elsewhere (the sandbox): ``service_config.bedrock-mantle
.endpoint_url`` is used as the base URL verbatim; otherwise a global ``endpoint_url`` gets ``/v1`` appended.
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from functools import cached_property
from typing import Any

import httpx2
import openai
from airflow.providers.amazon.aws.hooks.base_aws import AwsBaseHook
from aws_bedrock_token_generator import provide_token
from botocore.credentials import CredentialProvider, Credentials

from bedrock_rft_provider.hooks.storage import StorageHook
from bedrock_rft_provider.jobs.metrics import TrainingMetrics
from bedrock_rft_provider.jobs.openweight import (
    FILE_PURPOSE,
    TERMINAL_STATES,
    OpenWeightJobSpec,
    pick_job,
    reusable_files,
    training_filename,
)
from bedrock_rft_provider.jobs.openweight_metrics import metrics_from_events
from bedrock_rft_provider.jobs.training_key import TrainingKey

SERVICE = "bedrock-mantle"
DEFAULT_BASE_URL = "https://bedrock-mantle.{region}.api.aws/v1"
TOKEN_LIFETIME = timedelta(minutes=30)
REFRESH_BEFORE = timedelta(minutes=5)
# How many jobs (newest first) a reattach lookup reads; each page is one request.
MAX_JOBS_SCANNED = 1000
MAX_EVENT_PAGES = 50
# Objects are dumped with warnings=False: Bedrock's lambda grader is not in the SDK's grader union, so
# pydantic would warn on every job that echoes its method.


class _FixedCredentials(CredentialProvider):
    METHOD = "airflow-connection"

    def __init__(self, credentials: Any) -> None:
        self._credentials = credentials

    def load(self) -> Credentials:
        c = self._credentials
        return Credentials(c.access_key, c.secret_key, c.token, method=self.METHOD)


class BearerTokenSource:
    """A short-term Bedrock API key, minted from fresh credentials and renewed before it expires.

    Call it to get a valid token (the ``openai`` client does, before every request). ``credentials``
    returns botocore frozen credentials; ``clock`` returns seconds (tests move it).
    """

    def __init__(
        self,
        credentials: Callable[[], Any],
        region: str,
        *,
        lifetime: timedelta = TOKEN_LIFETIME,
        refresh_before: timedelta = REFRESH_BEFORE,
        clock: Callable[[], float] = time.time,
        on_new_token: Callable[[str], None] | None = None,
    ) -> None:
        self._credentials = credentials
        self.region = region
        self.lifetime = lifetime
        self.refresh_before = refresh_before
        self._clock = clock
        self._on_new_token = on_new_token
        self._token: str | None = None
        self._expires_at = 0.0
        self._lock = threading.Lock()
        self.minted = 0

    def __call__(self) -> str:
        with self._lock:
            now = self._clock()
            if self._token is None or now >= self._expires_at - self.refresh_before.total_seconds():
                provider = _FixedCredentials(self._credentials())
                self._token = provide_token(self.region, provider, self.lifetime)
                self._expires_at = now + self.lifetime.total_seconds()
                self.minted += 1
                if self._on_new_token is not None:
                    self._on_new_token(self._token)
            return self._token

    async def async_token(self) -> str:
        """The token for ``AsyncOpenAI``; minting may fetch credentials (STS), so it runs off the loop."""
        return await asyncio.to_thread(self)

    def __repr__(self) -> str:
        return f"BearerTokenSource(region={self.region!r}, lifetime={self.lifetime}, minted={self.minted})"


@dataclass(frozen=True)
class OpenWeightJob:
    """The job a find-or-create call ended with, and whether it was already there."""

    job: dict[str, Any]
    reattached: bool

    @property
    def job_id(self) -> str:
        return str(self.job["id"])

    @property
    def status(self) -> str:
        return str(self.job.get("status"))


class BedrockOpenWeightHook(AwsBaseHook):
    """Files, fine-tuning jobs, events and checkpoints on Bedrock's OpenAI-compatible API.

    Uses the Airflow AWS connection (``aws_conn_id``) for credentials, region and endpoint overrides.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["client_type"] = None
        super().__init__(*args, **kwargs)

    def __repr__(self) -> str:
        return f"BedrockOpenWeightHook(aws_conn_id={self.aws_conn_id!r}, region_name={self.region_name!r})"

    # -- connection --------------------------------------------------------------------------------
    @cached_property
    def mantle_region(self) -> str:
        """The region: the hook's, else the connection's, else the session's (boto's default chain)."""
        region = self.region_name or self.conn_config.region_name or self.get_session().region_name
        if not region:
            raise ValueError(f"AWS connection {self.aws_conn_id!r} has no region: set region_name")
        return str(region)

    @cached_property
    def base_url(self) -> str:
        """The API's base URL: the connection's ``bedrock-mantle`` endpoint, else the regional one."""
        service = self.conn_config.get_service_config(SERVICE).get("endpoint_url")
        if service:
            return str(service).rstrip("/")
        endpoint = self.conn_config.endpoint_url
        if endpoint:
            return f"{str(endpoint).rstrip('/')}/v1"
        return DEFAULT_BASE_URL.format(region=self.mantle_region)

    @cached_property
    def token_source(self) -> BearerTokenSource:
        """The connection's bearer token source (masked in task logs on every renewal)."""
        return BearerTokenSource(
            lambda: self.get_credentials(self.mantle_region), self.mantle_region, on_new_token=_mask
        )

    def _http_client(self) -> httpx2.Client | None:
        """The HTTP client for the SDK; None = the SDK's own (tests substitute a mock transport)."""
        return None

    def _async_http_client(self) -> httpx2.AsyncClient | None:
        return None

    @cached_property
    def client(self) -> openai.OpenAI:
        return openai.OpenAI(
            api_key=self.token_source, base_url=self.base_url, http_client=self._http_client()
        )

    @cached_property
    def async_client(self) -> openai.AsyncOpenAI:
        return openai.AsyncOpenAI(
            api_key=self.token_source.async_token,
            base_url=self.base_url,
            http_client=self._async_http_client(),
        )

    # -- files ---------------------------------------------------------------------------------------
    @cached_property
    def storage(self) -> StorageHook:
        return StorageHook(aws_conn_id=self.aws_conn_id, region_name=self.region_name, verify=self.verify)

    def read_data(self, uri: str) -> tuple[bytes, str]:
        """An S3 (or local) dataset's bytes and sha256: read once, hashed for the key, uploaded if new."""
        data = self.storage.read_bytes(uri)
        return data, hashlib.sha256(data).hexdigest()

    def upload_file(self, data: bytes, filename: str) -> list[str]:
        """Ids of the uploads of ``data`` named ``filename``, oldest first; uploads only when none exists."""
        files = [f.model_dump(warnings=False) for f in self.client.files.list(purpose=FILE_PURPOSE)]
        existing = reusable_files(files, filename, len(data))
        if existing:
            self.log.info("Reusing uploaded file %s (%s)", existing[0]["id"], filename)
            return [str(f["id"]) for f in existing]
        uploaded = self.client.files.create(file=(filename, data, "application/jsonl"), purpose="fine-tune")
        self.log.info("Uploaded %s as file %s (%d bytes)", filename, uploaded.id, len(data))
        return [uploaded.id]

    # -- jobs ----------------------------------------------------------------------------------------
    def find_job(self, training_file_ids: list[str]) -> dict[str, Any] | None:
        """The newest live or succeeded job trained on one of these files (scans the newest jobs)."""
        jobs = []
        for index, job in enumerate(self.client.fine_tuning.jobs.list(limit=100)):
            if index >= MAX_JOBS_SCANNED:
                self.log.warning("Reattach lookup stopped after the %d newest jobs", MAX_JOBS_SCANNED)
                break
            jobs.append(job.model_dump(warnings=False))
        found = pick_job(jobs, training_file_ids)
        return dict(found) if found is not None else None

    def find_or_create_job(
        self, spec: OpenWeightJobSpec, key: TrainingKey, data: Mapping[str, bytes]
    ) -> OpenWeightJob:
        """Reattach to this training key's live or succeeded job, or start one (exactly one create call).

        ``data`` maps each of ``spec.data_uris()`` to its bytes. The create request is sent once, without
        the SDK's automatic retries: a lost response is resolved by looking the job up again, never by
        sending a second create.
        """
        train_ids = self.upload_file(data[spec.training_data_uri], training_filename(key, "training"))
        validation_ids = (
            self.upload_file(data[spec.validation_data_uri], training_filename(key, "validation"))
            if spec.validation_data_uri
            else []
        )
        existing = self.find_job(train_ids)
        if existing is not None:
            self.log.info("Reattaching to fine-tuning job %s (status %s)", existing["id"], existing["status"])
            return OpenWeightJob(existing, reattached=True)
        body = spec.to_request(
            training_file=train_ids[0], validation_file=validation_ids[0] if validation_ids else None
        )
        try:
            created = self.client.with_options(max_retries=0).fine_tuning.jobs.create(
                model=body["model"],
                training_file=body["training_file"],
                validation_file=body.get("validation_file", openai.omit),
                # The SDK's typed grader union has no "lambda" member; AWS's example sends it this way.
                extra_body={"method": body["method"]},
            )
        except (openai.APIConnectionError, openai.InternalServerError):
            again = self.find_job(train_ids)
            if again is None:
                raise
            self.log.info("Create answered with an error but job %s exists; reattaching", again["id"])
            return OpenWeightJob(again, reattached=True)
        self.log.info("Started fine-tuning job %s (%s on %s)", created.id, spec.base_model_id, train_ids[0])
        return OpenWeightJob(created.model_dump(warnings=False), reattached=False)

    def retrieve_job(self, job_id: str) -> dict[str, Any]:
        return self.client.fine_tuning.jobs.retrieve(job_id).model_dump(warnings=False)

    def cancel_job(self, job_id: str) -> bool:
        """Cancel the job; False when it had already ended (nothing to cancel)."""
        if self.retrieve_job(job_id).get("status") in TERMINAL_STATES:
            return False
        self.client.fine_tuning.jobs.cancel(job_id)
        self.log.info("Requested cancellation of fine-tuning job %s", job_id)
        return True

    def events_since(self, job_id: str, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
        """Events newer than the event id ``cursor``, oldest first, and the new cursor."""
        pages = self.client.fine_tuning.jobs.list_events(job_id, limit=100)
        return collect_new_events((e.model_dump(warnings=False) for e in pages), cursor)

    async def aevents_since(self, job_id: str, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
        events: list[dict[str, Any]] = []
        async for event in self.async_client.fine_tuning.jobs.list_events(job_id, limit=100):
            if event.id == cursor or len(events) >= 100 * MAX_EVENT_PAGES:
                break
            events.append(event.model_dump(warnings=False))
        return collect_new_events(events, cursor)

    def read_training_metrics(self, job_id: str) -> TrainingMetrics:
        """The job's metric events as training curves (the native path reads its metric files instead)."""
        events, _ = self.events_since(job_id, None)
        return metrics_from_events(events)

    def checkpoints(self, job_id: str) -> list[dict[str, Any]]:
        """The job's checkpoints (each a model id usable for inference), oldest step first."""
        found = [
            c.model_dump(warnings=False)
            for c in self.client.fine_tuning.jobs.checkpoints.list(job_id, limit=100)
        ]
        return sorted(found, key=lambda c: c.get("step_number") or 0)


def collect_new_events(
    newest_first: Any, cursor: str | None, limit: int = 100 * MAX_EVENT_PAGES
) -> tuple[list[dict[str, Any]], str | None]:
    """Events (newest first, as the API lists them) down to ``cursor``, returned oldest first."""
    fresh: list[dict[str, Any]] = []
    for event in newest_first:
        if event.get("id") == cursor or len(fresh) >= limit:
            break
        fresh.append(event)
    fresh.reverse()
    return fresh, (fresh[-1]["id"] if fresh else cursor)


def _mask(token: str) -> None:
    from airflow.sdk.log import mask_secret

    mask_secret(token)
