"""Routing of ``/v1/...`` requests: bearer check, then the emulated operation, answered in OpenAI's shapes.

The sandbox app sends here every request under ``/v1`` that is unsigned, bearer-authorized, or SigV4-signed
for ``bedrock``/``bedrock-mantle`` (no S3 bucket can be named ``v1``: bucket names have 3 characters or
more). Operation names (for the ``latency_ms`` and ``throttle_rate`` knobs) follow OpenAI's operation ids.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

from bedrock_rft_provider.sandbox.mantle.auth import check_authorization
from bedrock_rft_provider.sandbox.mantle.requests import MODELS
from bedrock_rft_provider.sandbox.mantle.wire import (
    OpenAIError,
    json_response,
    not_emulated,
    parse_json_object,
    rate_limited,
)
from bedrock_rft_provider.sandbox.protocol import ACCOUNT_ID, ServiceError

if TYPE_CHECKING:
    from bedrock_rft_provider.sandbox.config import SandboxConfig
    from bedrock_rft_provider.sandbox.mantle.chat import ChatCompletions
    from bedrock_rft_provider.sandbox.mantle.files import FileStore
    from bedrock_rft_provider.sandbox.mantle.jobs import FineTuningJobs

log = logging.getLogger(__name__)
PREFIX = "/v1"
NOT_EMULATED = "NotEmulated"
Handler = Callable[[Request, dict[str, str]], Any]


def is_mantle_path(path: str) -> bool:
    return path == PREFIX or path.startswith(PREFIX + "/")


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    operation: str
    handler: Handler


class MantleAPI:
    """The emulated OpenAI-compatible API (``bedrock-mantle``) of one sandbox."""

    def __init__(
        self, config: SandboxConfig, files: FileStore, jobs: FineTuningJobs, chat: ChatCompletions
    ) -> None:
        self.config = config
        self.files = files
        self.jobs = jobs
        self.chat = chat
        job = r"/fine_tuning/jobs/(?P<job>[^/]+)"
        table: list[tuple[str, str, str, Handler]] = [
            ("POST", r"/files", "CreateFile", self._create_file),
            ("GET", r"/files", "ListFiles", lambda r, _: files.list_files(_query(r))),
            ("GET", r"/files/(?P<file>[^/]+)", "RetrieveFile", lambda _, m: files.retrieve(m["file"])),
            ("DELETE", r"/files/(?P<file>[^/]+)", "DeleteFile", lambda _, m: files.delete(m["file"])),
            (
                "GET",
                r"/files/(?P<file>[^/]+)/content",
                "RetrieveFileContent",
                lambda _, m: files.content(m["file"]),
            ),
            ("POST", r"/fine_tuning/jobs", "CreateFineTuningJob", lambda r, _: jobs.create(_body(r))),
            ("GET", r"/fine_tuning/jobs", "ListFineTuningJobs", lambda r, _: jobs.list_jobs(_query(r))),
            ("GET", job, "RetrieveFineTuningJob", lambda _, m: jobs.retrieve(m["job"])),
            ("POST", job + "/cancel", "CancelFineTuningJob", lambda _, m: jobs.cancel(m["job"])),
            (
                "GET",
                job + "/events",
                "ListFineTuningEvents",
                lambda r, m: jobs.list_events(m["job"], _query(r)),
            ),
            (
                "GET",
                job + "/checkpoints",
                "ListFineTuningJobCheckpoints",
                lambda r, m: jobs.list_checkpoints(m["job"], _query(r)),
            ),
            ("POST", r"/chat/completions", "CreateChatCompletion", lambda r, _: chat.create(_body(r))),
            ("GET", r"/models", "ListModels", lambda _, __: self._models()),
        ]
        self.routes = [
            Route(method, re.compile(re.escape(PREFIX) + pattern + "/?"), name, handler)
            for method, pattern, name, handler in table
        ]

    def operation(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        for route in self.routes:
            found = route.pattern.fullmatch(path)
            if found is not None and route.method == method:
                return route, found.groupdict()
        return None

    def respond(self, request: Request, path: str, throttle: Callable[[str], None]) -> tuple[str, Response]:
        """(operation name, answer) for one request; every failure is an OpenAI-shaped error."""
        found = self.operation(request.method, path)
        name = found[0].operation if found else NOT_EMULATED
        try:
            check_authorization(request.headers.get("Authorization"), self.config.api_keys, time.time())
            if found is None:
                raise not_emulated(request.method, path)
            route, labels = found
            try:
                throttle(name)
            except ServiceError as error:  # the throttling knob speaks AWS; answer in OpenAI's shape
                raise rate_limited() from error
            result = route.handler(request, labels)
            return name, result if isinstance(result, Response) else json_response(result)
        except OpenAIError as error:
            return name, error.response()
        except Exception as exc:  # a sandbox bug: say so instead of hanging the client
            log.exception("sandbox error in %s", name)
            failure = OpenAIError(
                500, f"bedrock-rft sandbox internal error in {name}: {exc!r}", type="server_error"
            )
            return name, failure.response()

    def _create_file(self, request: Request, labels: dict[str, str]) -> dict[str, Any]:
        if not request.mimetype.startswith("multipart/form-data"):
            raise OpenAIError(400, "Upload files as multipart/form-data with fields 'file' and 'purpose'.")
        return self.files.create(request.files.get("file"), request.form.get("purpose"))

    def _models(self) -> dict[str, Any]:
        names = [(m, "system") for m in MODELS] + [(m, ACCOUNT_ID) for m in self.jobs.model_names()]
        data = [{"id": name, "object": "model", "created": 0, "owned_by": owner} for name, owner in names]
        return {"object": "list", "data": data}


def _query(request: Request) -> dict[str, str]:
    return {key: value for key, value in request.args.items()}


def _body(request: Request) -> dict[str, Any]:
    return parse_json_object(request.get_data())
