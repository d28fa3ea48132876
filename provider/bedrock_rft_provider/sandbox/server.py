"""Run the sandbox: ``Sandbox(...).start()`` in-process (tests, ``make demo``) or ``serve()``."""

from __future__ import annotations

import logging
import threading
from types import TracebackType
from typing import TYPE_CHECKING, Any

from bedrock_rft_provider.sandbox.config import SandboxConfig

if TYPE_CHECKING:
    from werkzeug.serving import BaseWSGIServer

    from bedrock_rft_provider.sandbox.app import SandboxApp
    from bedrock_rft_provider.sandbox.keepalive import OpenConnections

log = logging.getLogger(__name__)

BANNER = """\
bedrock-rft sandbox: a local AWS endpoint for Amazon Bedrock reinforcement fine-tuning (no AWS account).
  REAL: the API requests and their validation (botocore models + the service-side checks), your data and
        its validation, your reward Lambda's code (run from its uploaded zip), packaging, and your
        Airflow orchestration. S3, IAM, STS, SSM and Lambda are moto, in the same process.
  SIMULATED: training dynamics and model answers. A tiny simulated policy answers prompts and learns from
        the rewards your Lambda computes; its curves and answers are NOT predictions of a real model."""


TESTED_MOTO = ("5.2.",)  # the moto range the sandbox extends and is tested against (>=5.2.5,<5.3)


def _check_moto_version() -> None:
    from importlib.metadata import version

    found = version("moto")
    if not found.startswith(TESTED_MOTO):
        log.warning(
            "bedrock-rft sandbox is tested with moto 5.2.x (>=5.2.5,<5.3); found moto %s: "
            "it reads moto's in-process backends, which may differ",
            found,
        )


class Sandbox:
    """The sandbox server on a background thread; a context manager. ``port=0`` picks a free port."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, config: SandboxConfig | None = None) -> None:
        self.host = host
        self.port = port
        self.config = config if config is not None else SandboxConfig.from_env()
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self.app: SandboxApp | None = None
        self._connections: OpenConnections | None = None

    @property
    def endpoint_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the sandbox is not running; call start() first")
        # Bound to every interface (a container): local clients reach it on the loopback address.
        host = "127.0.0.1" if self.host in ("0.0.0.0", "", "::") else self.host
        return f"http://{host}:{self._server.server_port}"

    @property
    def openai_base_url(self) -> str:
        """``base_url`` for the ``openai`` client: the emulated OpenAI-compatible API (``bedrock-mantle``)."""
        return f"{self.endpoint_url}/v1"

    @property
    def api_key(self) -> str:
        """A bearer key the emulated OpenAI-compatible API accepts (the first ``api_keys`` knob value).

        Short-term Bedrock API keys made from the test credentials (``testing``/``testing``) work too.
        """
        if not self.config.api_keys:
            raise RuntimeError("the sandbox has no static API key (api_keys is empty); use a short-term key")
        return self.config.api_keys[0]

    def start(self) -> Sandbox:
        """Bind, start serving on a daemon thread, and return self."""
        from werkzeug.serving import make_server

        from bedrock_rft_provider.sandbox.app import SandboxApp
        from bedrock_rft_provider.sandbox.keepalive import OpenConnections, handler_class, stamp_arrivals

        _check_moto_version()
        self.app = SandboxApp(self.config)
        self._connections = OpenConnections()
        self._server = make_server(
            self.host,
            self.port,
            self.app,
            threaded=True,
            request_handler=handler_class(self.config.read_timeout_s, self._connections),
        )
        stamp_arrivals(self._server.socket)  # the injected latency counts from the kernel's receipt
        self.app.set_endpoint(self.endpoint_url)
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="bedrock-rft-sandbox", daemon=True
        )
        self._thread.start()
        log.info(
            "bedrock-rft sandbox listening on %s. Real: requests, validation, data, reward code, packaging, "
            "orchestration. SIMULATED: training dynamics and model answers.",
            self.endpoint_url,
        )
        return self

    def serve(self) -> None:
        """Serve in the calling thread until interrupted (the CLI)."""
        if self._server is None:
            self.start()
        assert self._thread is not None
        try:
            while self._thread.is_alive():
                self._thread.join(0.5)
        finally:
            self.stop()

    def stop(self) -> None:
        """Stop serving, stop running jobs, and end Lambda worker processes (idempotent)."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._connections is not None:
            self._connections.close_all()  # idle kept-alive connections would otherwise linger
        if self._thread is not None:
            self._thread.join(5)
        if self.app is not None:
            self.app.close()
        self._server = None
        self._thread = None

    def client(self, service: str, **kwargs: Any) -> Any:
        """A boto3 client for ``service`` pointed at the sandbox (region us-east-1, dummy credentials)."""
        return self.session().client(service, endpoint_url=self.endpoint_url, **kwargs)

    def session(self) -> Any:
        import boto3

        return boto3.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
        )

    def airflow_conn_env(self) -> str:
        """``AIRFLOW_CONN_AWS_DEFAULT`` JSON pointing an Airflow AWS connection at the sandbox.

        It carries the dummy credentials the sandbox accepts: without any, botocore cannot sign and
        every task fails with ``NoCredentialsError``.
        """
        from bedrock_rft_provider.sandbox.bootstrap import connection_json

        return connection_json(self.endpoint_url)

    def airflow_conn_uri(self) -> str:
        """The same connection as a URI: ``aws://testing:testing@/?endpoint_url=...&region_name=...``."""
        from bedrock_rft_provider.sandbox.bootstrap import connection_uri

        return connection_uri(self.endpoint_url)

    def __enter__(self) -> Sandbox:
        return self.start() if self._server is None else self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
