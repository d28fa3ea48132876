"""code_tests: candidate code runs in a limited subprocess; passing, failing, looping, networking."""

from __future__ import annotations

import json
import socket
import time
from typing import Any

import pytest

from bedrock_rft_provider.rewards import make_handler, parse_sample
from bedrock_rft_provider.rewards.codeexec import (
    DEFAULT_TEST_PLACES,
    code_tests,
    extract_code,
    make_code_tests,
    run_code_tests,
)

ADD = "```python\ndef add(a, b):\n    return a + b\n```"
TESTS = {"tests": ["assert add(1, 2) == 3", "assert add(-1, 1) == 0", "assert add('a', 'b') == 'ab'"]}


def _score(response: str, reference: Any, make_event: Any) -> Any:
    return code_tests(parse_sample(make_event(response, reference)))


def test_passing_code_scores_one(make_event: Any) -> None:
    result = _score(ADD, TESTS, make_event)
    assert result.score == 1.0
    assert result.metrics["code_tests_passed"] == 3.0


def test_failing_code_scores_share_passed(make_event: Any) -> None:
    result = _score("def add(a, b):\n    return a - b if isinstance(a, int) else a + b", TESTS, make_event)
    assert result.score == pytest.approx(1 / 3)


def test_infinite_loop_times_out_and_keeps_earlier_passes(make_event: Any) -> None:
    code = "def add(a, b):\n    while a == -1:\n        pass\n    return a + b"
    started = time.monotonic()
    result = _score(code, {**TESTS, "timeout_s": 1}, make_event)
    assert time.monotonic() - started < 60  # a safety net (~2 s idle); the loop alone never ends
    assert result.metrics["code_tests_timed_out"] == 1.0
    assert result.score == pytest.approx(1 / 3)  # the first test passed before the loop


def test_network_access_is_blocked() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        port = server.getsockname()[1]
        code = (
            "def fetch():\n    import socket\n"
            f"    socket.create_connection(('127.0.0.1', {port}), timeout=2).close()\n    return True\n"
        )
        report = run_code_tests(code, ["assert fetch()"], timeout_s=5)
        server.setblocking(False)
        with pytest.raises(BlockingIOError):  # a completed connection would be waiting in the backlog
            server.accept()
    assert report.passed == 0


def test_subprocess_and_fake_results_are_blocked() -> None:
    escape = "import os\nstatus = os.system('true')\n"  # seccomp/NPROC: the shell never starts
    forge = 'import sys\nsys.__stdout__.write(\'{"index": 0, "passed": true}\\n\')\nraise SystemExit(0)\n'
    assert run_code_tests(escape, ["assert status == 0"], timeout_s=5).passed == 0
    assert run_code_tests(forge, ["assert undefined_name"], timeout_s=5).passed == 0


def test_stdin_stdout_tests() -> None:
    code = "n = int(input())\nprint(n * 2)"
    report = run_code_tests(
        code, [{"input": "3\n", "output": "6"}, {"input": "5", "output": "11"}], timeout_s=5
    )
    assert (report.passed, report.total) == (1, 2)


def test_no_tests_is_not_applicable(make_event: Any) -> None:
    assert _score(ADD, {"answer": "x"}, make_event) is None


def test_code_is_taken_from_the_last_fence() -> None:
    assert extract_code("```python\nx = 1\n```\ntext\n```python\nx = 2\n```") == "x = 2\n"
    assert extract_code("x = 3") == "x = 3"


def test_code_tests_through_handler(make_event: Any) -> None:
    results = make_handler(code_tests)([make_event(ADD, TESTS, sample_id="c")], None)
    assert results[0]["id"] == "c"
    assert results[0]["aggregate_reward_score"] == 1.0


CORRECT = "```python\ndef add(a, b):\n    return a + b\n```"
ADD_TESTS = ["assert add(1, 2) == 3", "assert add(2, 2) == 4"]


def _sample(**fields: Any) -> Any:
    raw = {"id": "c", "messages": [{"role": "assistant", "content": CORRECT}], **fields}
    return parse_sample(raw)


@pytest.mark.parametrize(
    "fields",
    [
        {"metadata": {"test_cases": ADD_TESTS}},
        {"metadata": {"test_cases": json.dumps(ADD_TESTS)}},
        {"test_cases": ADD_TESTS},
        {"metadata": {"reference_answer": {"test_cases": ADD_TESTS}}},
        {"reference_answer": {"tests": ADD_TESTS, "timeout_s": 5}},
        {"metadata": {"reference_answer": "assert add(1, 2) == 3\nassert add(2, 2) == 4"}},
    ],
    ids=["aws-metadata-test-cases", "json-text", "top-level", "in-reference", "top-reference", "code-text"],
)
def test_tests_are_found_in_every_documented_place(fields: dict[str, Any]) -> None:
    result = code_tests(_sample(**fields))
    assert result is not None
    assert result.score == 1.0


def test_the_first_place_holding_tests_wins() -> None:
    sample = _sample(
        metadata={"reference_answer": {"tests": ["assert add(1, 1) == 3"]}, "test_cases": ADD_TESTS}
    )
    assert code_tests(sample).score == 0.0


def test_places_are_configurable() -> None:
    custom = make_code_tests(["metadata.unit_tests"])
    sample = _sample(metadata={"unit_tests": ADD_TESTS, "test_cases": ["assert False"]})
    assert custom(sample).score == 1.0
    assert custom(_sample(metadata={"test_cases": ADD_TESTS})) is None
    assert custom.reference_places == ("metadata.unit_tests",)
    assert code_tests.reference_places == DEFAULT_TEST_PLACES


def test_a_sample_cannot_raise_the_limits_above_the_reward_s() -> None:
    slow = "```python\nimport time\ntime.sleep(600)\ndef add(a, b):\n    return a + b\n```"
    raw = {
        "messages": [{"role": "assistant", "content": slow}],
        "metadata": {"reference_answer": {"tests": ADD_TESTS, "timeout_s": 1000}},
    }
    started = time.monotonic()
    result = make_code_tests(timeout_s=1)(parse_sample(raw))
    assert time.monotonic() - started < 120  # the sample asked for 1000 s; its code sleeps 600
    assert result.metrics["code_tests_timed_out"] == 1.0
