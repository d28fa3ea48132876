"""Lambda ``Invoke`` for functions moto holds: runs the uploaded zip (moto alone would need Docker)."""

from __future__ import annotations

import base64
import json
import threading
from typing import Any

from werkzeug.wrappers import Response

from bedrock_rft_provider.sandbox import moto_state
from bedrock_rft_provider.sandbox.lambda_runtime import MAX_PAYLOAD_BYTES, LambdaPool
from bedrock_rft_provider.sandbox.protocol import ACCOUNT_ID, ServiceError
from bedrock_rft_provider.sandbox.validation import parse_json_body

INVOKE_PATH_PREFIX = "/2015-03-31/functions/"
INVOKE_PATH_SUFFIX = "/invocations"


def is_invoke(method: str, path: str) -> bool:
    return method == "POST" and path.startswith(INVOKE_PATH_PREFIX) and path.endswith(INVOKE_PATH_SUFFIX)


def invoke(
    pool: LambdaPool, *, path: str, query: dict[str, str], headers: dict[str, str], body: bytes, region: str
) -> Response:
    """Answer one Invoke request like Lambda: payload, FunctionError, executed version, log tail."""
    from urllib.parse import unquote

    name = unquote(path[len(INVOKE_PATH_PREFIX) : -len(INVOKE_PATH_SUFFIX)])
    qualifier = query.get("Qualifier")
    code = moto_state.get_lambda(name, qualifier, region)
    if code is None:
        arn = name if name.startswith("arn:") else f"arn:aws:lambda:{region}:{ACCOUNT_ID}:function:{name}"
        raise ServiceError("ResourceNotFoundException", f"Function not found: {arn}", 404)
    if len(body) > MAX_PAYLOAD_BYTES:
        raise ServiceError(
            "RequestEntityTooLargeException",
            f"Request must be smaller than {MAX_PAYLOAD_BYTES} bytes for the InvokeFunction operation",
            413,
        )
    try:
        event: Any = parse_json_body(body) if body else {}
    except ServiceError as error:  # Lambda's JSON parser is strict too: no NaN, bounded nesting
        raise ServiceError(
            "InvalidRequestContentException", f"Could not parse request body into json: {error.message}", 400
        ) from None
    invocation_type = headers.get("X-Amz-Invocation-Type", "RequestResponse")
    worker = pool.worker(code, region)
    if invocation_type == "DryRun":
        return Response(b"", status=204)
    if invocation_type == "Event":
        threading.Thread(target=worker.invoke, args=(event,), daemon=True).start()
        return Response(b"", status=202)
    result = worker.invoke(event)
    out_headers = {"Content-Type": "application/json", "X-Amz-Executed-Version": result.executed_version}
    if result.error is not None:
        out_headers["X-Amz-Function-Error"] = "Unhandled"
        payload = json.dumps(result.error).encode()
    else:
        payload = json.dumps(result.payload).encode()
    if headers.get("X-Amz-Log-Type") == "Tail":
        tail = f"START RequestId: sandbox\n{result.logs}END RequestId: sandbox\n"
        out_headers["X-Amz-Log-Result"] = base64.b64encode(tail.encode()[-4096:]).decode()
    return Response(payload, status=200, headers=out_headers)
