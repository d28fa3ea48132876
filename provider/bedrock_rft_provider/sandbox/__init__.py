"""The local Bedrock RFT sandbox: one endpoint with moto (S3, IAM, STS, SSM, Lambda) and emulated Bedrock.

``Sandbox(config=SandboxConfig(...)).start()`` (or ``with Sandbox() as sandbox:``) serves it in-process;
``bedrock-rft sandbox`` serves it in the foreground. What is real: requests and their validation, data,
reward code (run from the uploaded Lambda zip), packaging, orchestration. What is simulated: training
dynamics and model answers. Nothing heavy is imported until ``Sandbox`` or ``SandboxConfig`` is used.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Sandbox", "SandboxConfig"]


def __getattr__(name: str) -> Any:
    if name == "Sandbox":
        from bedrock_rft_provider.sandbox.server import Sandbox

        return Sandbox
    if name == "SandboxConfig":
        from bedrock_rft_provider.sandbox.config import SandboxConfig

        return SandboxConfig
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
