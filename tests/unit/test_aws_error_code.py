"""A ClientError's code is read one way: ``errors.aws_error_code`` (and its forced copy in the grader
Lambda's ``rewards/judge.py``, DESIGN rule 2, which must behave the same)."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from bedrock_rft_provider.errors import aws_error_code
from bedrock_rft_provider.rewards import judge


class _Odd(Exception):
    def __init__(self, response: Any) -> None:
        super().__init__("odd")
        self.response = response


CASES: list[tuple[BaseException, str]] = [
    (
        ClientError({"Error": {"Code": "ResourceNotFoundException", "Message": "x"}}, "GetThing"),
        "ResourceNotFoundException",
    ),
    (ClientError({"Error": {"Code": "404"}}, "HeadObject"), "404"),
    (ClientError({}, "GetThing"), ""),
    (ValueError("no response"), ""),
    (_Odd(None), ""),
    (_Odd({"Error": "not a dict"}), ""),
    (_Odd({"Error": {"Message": "no code"}}), ""),
    (_Odd({"Error": {"Code": 500}}), "500"),
]


@pytest.mark.parametrize(("exc", "code"), CASES)
def test_the_code_is_read_from_the_error_response(exc: BaseException, code: str) -> None:
    assert aws_error_code(exc) == code


@pytest.mark.parametrize(("exc", "code"), CASES)
def test_the_grader_lambdas_copy_reads_it_the_same_way(exc: BaseException, code: str) -> None:
    assert judge._error_code(exc) == aws_error_code(exc) == code
