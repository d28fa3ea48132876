"""The grader Lambda's settings as the Lambda API checks them (CreateFunction, CreateAlias), applied
before the reward operator writes anything.

The rules are botocore's lambda model where it is as strict as the service, and stricter where the
Lambda documentation is: function names are 1-64 characters (the model allows 140 for a qualified
name), a role ARN names a partition and a role (the model allows neither), timeout is at most 900 s and
memory at most 10,240 MB (the model's 5,400 s and 32,768 MB are for other function kinds).
``tests/unit/jobs/test_patterns_match_botocore.py`` holds every rule against the model. ASCII classes
only: ``\\w`` would let a non-ASCII role name through that Lambda rejects.

They run in the operator, not in Lambda, so they live here rather than in ``rewards/`` (which ships
inside the Lambda zip).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from bedrock_rft_provider.jobs.validation import FieldRule

FUNCTION_NAME = FieldRule(r"[a-zA-Z0-9_-]+", 64, "a function name: letters, digits, '-' or '_'")
FUNCTION_ARN = FieldRule(
    r"arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:\d{12}:function:[a-zA-Z0-9_-]{1,64}",
    140,
    "a function ARN (arn:aws:lambda:REGION:ACCOUNT:function:NAME)",
)
EXECUTION_ROLE_ARN = FieldRule(
    r"arn:aws[a-zA-Z-]*:iam::[0-9]{12}:role/[a-zA-Z0-9_+=,.@/-]{1,512}",
    2048,
    "an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)",
)
ALIAS_NAME = FieldRule(
    r"(?!^[0-9]+$)([a-zA-Z0-9-_]+)", 128, "an alias: letters, digits, '-' or '_', not only digits"
)
RUNTIME = re.compile(r"python3\.(1[0-9])")
MAX_TIMEOUT_S = 900
MIN_MEMORY_MB, MAX_MEMORY_MB = 128, 10_240
ENVIRONMENT_KEY = re.compile(r"[a-zA-Z]\w*")


def check_grader_settings(
    *,
    function_name: str,
    role_arn: str,
    runtime: str,
    architecture: str,
    timeout: int,
    memory_size: int,
    alias: str,
    environment: Mapping[str, str] | None,
) -> list[tuple[str, str]]:
    """``(field, problem)`` for every grader Lambda setting AWS would reject ([] when all are valid)."""
    from bedrock_rft_provider.rewards.packaging import ARCHITECTURES  # the packager's home; heavy to import

    problems = []
    if not (FUNCTION_NAME.matches(str(function_name)) or FUNCTION_ARN.matches(str(function_name))):
        problems.append(
            (
                "function_name",
                f"{function_name!r} must be 1-64 letters, digits, '-' or '_' (or a function ARN)",
            )
        )
    if not EXECUTION_ROLE_ARN.matches(str(role_arn)):
        problems.append(("role_arn", f"{role_arn!r} is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)"))
    if not RUNTIME.fullmatch(str(runtime)):
        problems.append(("runtime", f"{runtime!r}; expected a Lambda Python runtime such as python3.12"))
    if architecture not in ARCHITECTURES:
        problems.append(("architecture", f"{architecture!r}; expected one of {sorted(ARCHITECTURES)}"))
    if not isinstance(timeout, int) or not 1 <= timeout <= MAX_TIMEOUT_S:
        problems.append(("timeout", f"{timeout!r} seconds; Lambda allows 1 to {MAX_TIMEOUT_S}"))
    if not isinstance(memory_size, int) or not MIN_MEMORY_MB <= memory_size <= MAX_MEMORY_MB:
        problems.append(
            ("memory_size", f"{memory_size!r} MB; Lambda allows {MIN_MEMORY_MB} to {MAX_MEMORY_MB}")
        )
    if not ALIAS_NAME.matches(str(alias)):
        problems.append(("alias", f"{alias!r} must be 1-128 letters, digits, '-' or '_' and not only digits"))
    for key, value in (environment or {}).items():
        if not ENVIRONMENT_KEY.fullmatch(str(key)) or not isinstance(value, str):
            problems.append((f"environment.{key}", "keys must be identifiers and values strings"))
    return problems
