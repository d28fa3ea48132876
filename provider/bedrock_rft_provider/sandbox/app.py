"""The sandbox's WSGI application: moto's server app with Bedrock, Bedrock Runtime and Lambda Invoke on top.

Every request first passes the guards (``guards.py``): cross-origin browser requests are refused and the
body is read against the operation's size limit. Requests are then routed by their SigV4 credential
scope: ``bedrock`` (both Bedrock and Bedrock Runtime sign with it) is matched against botocore's own
models; an operation the sandbox emulates is answered here, any other operation of those two services
gets a NotImplementedException naming it, and paths that belong to neither (Agents for Bedrock) go to
moto. Requests under ``/v1/`` (bearer-authorized, unsigned, or signed for ``bedrock``/``bedrock-mantle``)
are Bedrock's OpenAI-compatible API, emulated by ``mantle/`` in OpenAI's shapes. Lambda ``Invoke``
runs the function's code here; everything else (S3, IAM, STS, SSM, the rest of
Lambda) is moto's, in the same process and state, except that Lambda code uploads are checked against
Lambda's package limits first. Each operation answered here is validated against its botocore model
first (``validation.py``), as the service does.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.wrappers import Request, Response

from bedrock_rft_provider.sandbox import guards, lambda_invoke, validation
from bedrock_rft_provider.sandbox.config import SandboxConfig
from bedrock_rft_provider.sandbox.control_plane import BedrockControlPlane
from bedrock_rft_provider.sandbox.deployments import Deployments
from bedrock_rft_provider.sandbox.lambda_runtime import LambdaPool
from bedrock_rft_provider.sandbox.mantle.api import MantleAPI, is_mantle_path
from bedrock_rft_provider.sandbox.mantle.chat import ChatCompletions
from bedrock_rft_provider.sandbox.mantle.files import FileStore
from bedrock_rft_provider.sandbox.mantle.jobs import FineTuningJobs
from bedrock_rft_provider.sandbox.protocol import (
    ServiceError,
    error_response,
    json_response,
    match_route,
    not_emulated,
    raw_path,
    signing_scope,
    throttled,
    validation_error,
)
from bedrock_rft_provider.sandbox.runtime import Runtime

log = logging.getLogger(__name__)
ARRIVED = guards.ARRIVED

Handler = Callable[["Call"], Any]


class Call:
    """One decoded request to an emulated operation."""

    def __init__(self, request: Request, labels: dict[str, str], region: str) -> None:
        self.request = request
        self.labels = labels
        self.region = region
        self.query = {k: v for k, v in request.args.items()}
        self.raw = request.get_data()
        self._body: dict[str, Any] | None = None

    def json(self) -> dict[str, Any]:
        """The JSON object body (strict JSON, bounded nesting); ValidationException otherwise."""
        if self._body is None:
            body = validation.parse_json_body(self.raw) if self.raw else {}
            if not isinstance(body, dict):
                raise validation_error("The request body must be a JSON object.")
            self._body = body
        return self._body

    def validate(self, service: str, operation: str) -> None:
        """Check the request against the operation's botocore model, as the service does."""
        model = validation.operation(service, operation)
        payload = model.input_shape.serialization.get("payload") if model.input_shape else None
        blob = payload is not None and model.input_shape.members[payload].type_name in ("blob", "string")
        validation.check_request(
            model,
            body=None if blob else self.json(),
            raw_body=self.raw,
            labels=self.labels,
            query=self.request.args,
            headers=self.request.headers,
        )


class SandboxApp:
    """WSGI callable; ``reset()`` clears the emulated state (moto's reset endpoint calls it too)."""

    def __init__(self, config: SandboxConfig) -> None:
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

        self.config = config
        self.endpoint_url: str | None = None
        self.moto = DomainDispatcherApplication(create_backend_app)
        self._rng = random.Random(config.seed)
        self._rng_lock = threading.Lock()
        self.lambdas = LambdaPool()
        self._build_state()

    def _build_state(self) -> None:
        self.plane = BedrockControlPlane(self.config, lambda: self.endpoint_url)
        self.deployments = Deployments(self.plane)
        self.runtime = Runtime(self.plane, self.deployments)
        self.files = FileStore(self.plane.answers)
        self.fine_tuning = FineTuningJobs(self.plane, self.files)
        self.mantle = MantleAPI(
            self.config, self.files, self.fine_tuning, ChatCompletions(self.runtime, self.fine_tuning)
        )
        # Operation name -> handler; the success status comes from the operation's route.
        self.handlers: dict[str, Handler] = {
            "CreateModelCustomizationJob": lambda c: self.plane.create_job(c.json(), c.region),
            "GetModelCustomizationJob": lambda c: self.plane.get_job(c.labels["jobIdentifier"]),
            "ListModelCustomizationJobs": lambda c: self.plane.list_jobs(c.query),
            "StopModelCustomizationJob": lambda c: self.plane.stop_job(c.labels["jobIdentifier"]),
            "GetCustomModel": lambda c: self.plane.get_model(c.labels["modelIdentifier"]),
            "ListCustomModels": lambda c: self.plane.list_models(c.query),
            "DeleteCustomModel": lambda c: self.plane.delete_model(
                c.labels["modelIdentifier"], self.deployments.model_in_use
            ),
            "CreateCustomModelDeployment": lambda c: self.deployments.create(c.json(), c.region),
            "GetCustomModelDeployment": lambda c: self.deployments.get(
                c.labels["customModelDeploymentIdentifier"]
            ),
            "ListCustomModelDeployments": lambda c: self.deployments.list(c.query),
            "UpdateCustomModelDeployment": lambda c: self.deployments.update(
                c.labels["customModelDeploymentIdentifier"], c.json()
            ),
            "DeleteCustomModelDeployment": lambda c: self.deployments.delete(
                c.labels["customModelDeploymentIdentifier"]
            ),
            "ListTagsForResource": lambda c: self.plane.list_tags(c.json()),
            "TagResource": lambda c: self.plane.tag(c.json()),
            "UntagResource": lambda c: self.plane.untag(c.json()),
            "Converse": lambda c: self.runtime.converse(c.labels["modelId"], c.json()),
            "InvokeModel": lambda c: self.runtime.invoke_model(c.labels["modelId"], c.raw),
        }

    def set_endpoint(self, endpoint_url: str) -> None:
        self.endpoint_url = endpoint_url
        self.lambdas.endpoint_url = endpoint_url

    def reset(self) -> None:
        """Forget every job, model, deployment and worker (moto's own state is reset separately)."""
        self.close()
        self._build_state()

    def close(self) -> None:
        self.fine_tuning.stop_all()  # before the plane ends the Lambda workers those jobs use
        self.plane.shutdown(timeout=5)
        self.fine_tuning.shutdown(timeout=5)
        self.lambdas.close()

    # ----- dispatch -------------------------------------------------------------------------------
    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        # The keep-alive handler stamps the request line's arrival; another server (a test's) does not.
        environ.setdefault(ARRIVED, time.monotonic())
        method = environ.get("REQUEST_METHOD", "GET")
        path = raw_path(environ)
        scope = signing_scope(environ)
        lambda_route = None
        if scope is not None and scope[0] == "lambda":
            lambda_route = match_route(("lambda",), method, path)
        refusal = self._guard(environ, ("lambda", lambda_route[0].operation) if lambda_route else None)
        if refusal is not None:
            return refusal(environ, start_response)
        if path.startswith("/moto-api/reset") and method == "POST":
            self.reset()
        elif is_mantle_path(path) and (scope is None or scope[0] in ("bedrock", "bedrock-mantle")):
            operation, response = self.mantle.respond(Request(environ), path, self._throttle)
            self._pace(operation, environ.get(ARRIVED))
            return response(environ, start_response)
        elif scope is not None and lambda_route is not None and lambda_invoke.is_invoke(method, path):
            return self._answer(
                ("lambda", "Invoke"), scope[1], environ, start_response, self._invoke_lambda, lambda_route[1]
            )
        elif scope is not None and scope[0] == "bedrock":
            found = match_route(("bedrock-runtime", "bedrock"), method, path)
            if found is not None:
                route, labels = found
                handler = self.handlers.get(route.operation)
                if handler is None:
                    error = not_emulated(route.service, route.operation)
                    return error_response(error)(environ, start_response)

                def respond(call: Call) -> Response:
                    return json_response(handler(call), route.success_status)

                operation_id = (route.service, route.operation)
                return self._answer(operation_id, scope[1], environ, start_response, respond, labels)
        return self.moto(environ, start_response)

    def _guard(self, environ: dict[str, Any], operation: tuple[str, str] | None) -> Response | None:
        """An answer refusing the request before anyone handles it, or None to go on."""
        refusal = guards.cross_origin_refusal(environ, self.config.allowed_origins)
        if refusal is not None:
            return refusal
        limit, name = guards.request_limit(operation, self.config.max_request_bytes)
        close = False
        try:
            body = guards.buffer_body(environ, limit, name)
            guards.check_lambda_upload(operation, body)
            return None
        except guards.RequestTooLarge as too_large:
            failure: ServiceError = too_large
            close = True  # the rest of the body is unread: never parse it as the next request
        except ServiceError as refused:
            failure = refused
        except OSError:  # the client stopped sending (read timeout) or went away
            failure = ServiceError("RequestTimeout", "The request body was not received in time.", 408)
            close = True
        response = error_response(failure)
        if close:
            response.headers["Connection"] = "close"
        return response

    def _invoke_lambda(self, call: Call) -> Response:
        headers = {k: v for k, v in call.request.headers.items()}
        return lambda_invoke.invoke(
            self.lambdas,
            path=raw_path(call.request.environ),
            query=call.query,
            headers=headers,
            body=call.raw,
            region=call.region,
        )

    def _answer(  # noqa: PLR0917
        self,
        operation: tuple[str, str],
        region: str,
        environ: dict[str, Any],
        start_response: Callable[..., Any],
        respond: Callable[[Call], Response],
        labels: dict[str, str],
    ) -> Iterable[bytes]:
        api = operation[1]
        try:
            self._throttle(api)
            call = Call(Request(environ), labels, region)
            call.validate(*operation)
            response = respond(call)
        except ServiceError as error:
            response = error_response(error)
        except Exception as exc:  # a sandbox bug: say so instead of hanging the client
            log.exception("sandbox error in %s", api)
            response = error_response(
                ServiceError(
                    "InternalServerException", f"bedrock-rft sandbox internal error in {api}: {exc!r}", 500
                )
            )
        self._pace(api, environ.get(ARRIVED))
        return response(environ, start_response)

    def _pace(self, api: str, arrived: float | None) -> None:
        """Hold the answer until this API's injected latency has passed since the request arrived.

        The latency is the service's response time: what the sandbox itself spent on the request
        (guards, validation, the simulated model) counts towards it, as a remote service's own work
        does, so a busy sandbox sharing the client's cores does not add its CPU time on top.
        """
        delay = self.config.per_api(self.config.latency_ms, api) / 1000.0
        if delay > 0:
            left = delay - (time.monotonic() - arrived) if arrived is not None else delay
            if left > 0:
                time.sleep(left)

    def _throttle(self, api: str) -> None:
        """Apply the throttling knob for this API (raises ThrottlingException for that share of calls)."""
        rate = self.config.per_api(self.config.throttle_rate, api)
        if rate > 0:
            with self._rng_lock:
                draw = self._rng.random()
            if draw < rate:
                raise throttled()
