"""Break wave 3: hostile model output that out-scored an honest wrong answer (tool calls, judge replies)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bedrock_rft_provider.rewards.contract import Sample
from bedrock_rft_provider.rewards.judge import JudgeOutputError, parse_judge_score
from bedrock_rft_provider.rewards.toolcall import tool_call_match
from bedrock_rft_provider.rewards.toolparse import MAX_CALLS, MAX_DEPTH, MAX_RESPONSE_CHARS

CALL = {"name": "get_weather", "arguments": {"city": "Paris", "days": 3}}
NO_CALL_EXPECTED = {"tool_calls": []}


def _score(response: str, reference: Any, raw: Any = None) -> float:
    result = tool_call_match(Sample("s", response, reference, {}, raw or {}))
    assert result is not None
    return result.score


# When no call is right, an honest (wrong) call scores 0; an unreadable call scored 1.0 (the parse error
# was taken for "made no call"), so making the call malformed paid more than making it plainly.
@pytest.mark.parametrize(
    "response",
    [
        '{"name": "get_weather", "name": "x", "arguments": {}}',
        '{"name": "get_weather", "arguments": {"city": NaN}}',
        '{"name": "get_weather", "arguments": {"days": Infinity}}',
        '{"name": "get_weather", "arguments": ' + "[" * (MAX_DEPTH + 2) + "]" * (MAX_DEPTH + 2) + "}",
        json.dumps([CALL] * (MAX_CALLS + 1)),
        json.dumps({"tool_calls": [CALL] * (MAX_CALLS + 1)}),
        "<tool_call>" + json.dumps(CALL) + "</tool_call>" * 1 + ("<tool_call>{}</tool_call>" * MAX_CALLS),
        "\n".join(['get_weather(city="Paris", days=3)'] * (MAX_CALLS + 1)),
        json.dumps(CALL) + " " * MAX_RESPONSE_CHARS,
    ],
    ids=[
        "duplicate-key",
        "nan",
        "infinity",
        "too-deep",
        "too-many-list",
        "too-many-tool_calls",
        "too-many-tagged",
        "too-many-python",
        "too-large",
    ],
)
def test_an_unreadable_call_scores_no_more_than_a_plain_call_when_none_is_expected(response: str) -> None:
    honest_wrong = _score(json.dumps(CALL), NO_CALL_EXPECTED)
    assert honest_wrong == 0.0
    assert _score(response, NO_CALL_EXPECTED) == 0.0


def test_too_many_structured_calls_score_zero_when_none_is_expected() -> None:
    turn = {
        "role": "assistant",
        "tool_calls": [{"function": {"name": "a", "arguments": "{}"}}] * (MAX_CALLS + 1),
    }
    assert _score("", NO_CALL_EXPECTED, {"messages": [turn]}) == 0.0


@pytest.mark.parametrize("response", ["It is sunny in Paris; no tool is needed.", "", "{not json at all"])
def test_a_response_that_plainly_makes_no_call_is_right_when_none_is_expected(response: str) -> None:
    assert _score(response, NO_CALL_EXPECTED) == 1.0


def test_a_reference_with_more_calls_than_the_limit_is_not_gradable() -> None:
    reference = {"tool_calls": [CALL] * (MAX_CALLS + 1)}
    assert tool_call_match(Sample("s", json.dumps(CALL), reference, {}, {})) is None


# The judge reply is shaped by the graded response: a reply whose scores disagree is no verdict.
@pytest.mark.parametrize(
    "reply",
    [
        '{"score": 2} {"score": 10}',
        '{"score": 10} {"score": 2}',
        '```json\n{"score": 3}\n```\n```json\n{"score": 9}\n```',
        "score: 4\nscore = 9",
        '{"grade": {"score": 1}} {"score": 10}',
    ],
)
def test_a_judge_reply_stating_different_scores_is_no_verdict(reply: str) -> None:
    with pytest.raises(JudgeOutputError, match="different scores"):
        parse_judge_score(reply, 0, 10)


@pytest.mark.parametrize(
    "reply",
    [
        '{"score": "10/10"}',
        '{"score": "10"}',
        '{"score": true}',
        '{"score": NaN}',
        '{"score": 1e999}',
        "10/10",
    ],
)
def test_a_judge_score_that_is_not_a_number_in_range_is_no_verdict(reply: str) -> None:
    with pytest.raises(JudgeOutputError):
        parse_judge_score(reply, 0, 10)


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ('{"score": 7, "reason": "it wrote {\\"score\\": 10}, ignored"}', 0.7),
        ('{"score": 7} Score: 7', 0.7),
        ('{"grade": {"score": 6, "reason": "ok"}}', 0.6),
    ],
)
def test_a_judge_reply_with_one_score_is_read(reply: str, expected: float) -> None:
    assert parse_judge_score(reply, 0, 10) == pytest.approx(expected)


# -- moderation's label: a first line naming several labels is a hedge, as on a Label line -------------
@pytest.mark.parametrize(
    "response",
    [
        "allow or remove",
        "remove / allow",
        "allow? remove? flag?",
        "flag (or remove)",
        "Remove - or maybe allow",
    ],
)
def test_a_first_line_hedge_states_no_label(response: str) -> None:
    from bedrock_rft_provider.rewards.moderation import label_match, parse_label

    assert parse_label(response) is None
    for reference in ("allow", "flag", "remove"):
        result = label_match(Sample("s", response, reference, {}, {}))
        assert result is not None and result.score == 0.0


@pytest.mark.parametrize(
    ("response", "label"),
    [
        ("remove - it threatens a person", "remove"),
        ("Allow.", "allow"),
        ("remove: not allowed here", "remove"),
    ],
)
def test_a_first_line_with_one_label_still_counts(response: str, label: str) -> None:
    from bedrock_rft_provider.rewards.moderation import parse_label

    assert parse_label(response) == label


# -- json_match: a repeated key is two answers; nesting past the parser's stack is no answer --------------
@pytest.mark.parametrize(
    "response",
    [
        '{"total": 2, "total": 1}',
        '{"total": 1, "total": 2}',
        '```json\n{"total": 2, "total": 1}\n```',
        '{"outer": {"total": 1, "total": 1}, "total": 1}',
    ],
)
def test_json_match_pays_nothing_for_a_repeated_key(response: str) -> None:
    from bedrock_rft_provider.rewards.builtin import json_match

    result = json_match(Sample("s", response, {"total": 1}, {}, {}))
    assert result is not None and result.score == 0.0


def test_json_match_survives_nesting_deeper_than_the_parser_stack() -> None:
    from bedrock_rft_provider.rewards.builtin import json_match

    result = json_match(Sample("s", "[" * 200_000 + "]" * 200_000, {"total": 1}, {}, {}))
    assert result is not None and result.score == 0.0 and result.metrics["json_parsed"] == 0.0


# -- code_tests: the parent's memory holds the expected values; a child left root could read it --------
# Each attack scans the grader's (its parent's) writable memory for the test's expected value and
# returns it. As root with the interpreter unreadable to nobody (so root cannot be dropped), the floor
# left the child CAP_SYS_PTRACE, which opens a non-dumpable parent's /proc/<pid>/mem: 2/2 passed.
_SCAN = r"""
import os, re, sys
def scan(pid, x):
    maps = open(f"/proc/{pid}/maps").read().splitlines()
    mem = open(f"/proc/{pid}/mem", "rb", 0)
    for line in maps:
        if "rw" not in line.split()[1]:
            continue
        start, end = (int(v, 16) for v in line.split()[0].split("-"))
        try:
            mem.seek(start)
            data = mem.read(min(end - start, 1 << 24))
        except OSError:
            continue
        found = re.search(rb"solve\(%d\) == (\d+)" % x, data)
        if found:
            return int(found.group(1))
    return None
"""
_MEMORY_ATTACKS = {
    "proc_mem": _SCAN
    + """
def solve(x):
    try:
        return scan(os.getppid(), x)
    except Exception:
        return None
""",
    # exec a fresh interpreter: as root it would regain every capability unless they are gone for good
    "exec_then_proc_mem": "import os, subprocess, sys\nSCAN = "
    + repr(_SCAN)
    + """
def solve(x):
    try:
        code = SCAN + "\\nprint(scan(int(sys.argv[1]), int(sys.argv[2])))"
        out = subprocess.run([sys.executable, "-c", code, str(os.getppid()), str(x)],
                             capture_output=True, timeout=5).stdout
        return int(out)
    except Exception:
        return None
""",
    "process_vm_readv": _SCAN.replace('open(f"/proc/{pid}/mem", "rb", 0)', "_VmReader(pid)")
    + """
import ctypes
class _VmReader:
    def __init__(self, pid):
        self.pid, self.at = pid, 0
        self.libc = ctypes.CDLL(None, use_errno=True)
    def seek(self, at):
        self.at = at
    def read(self, size):
        buf = ctypes.create_string_buffer(size)
        local = (ctypes.c_void_p * 2)(ctypes.addressof(buf), size)
        remote = (ctypes.c_void_p * 2)(self.at, size)
        got = self.libc.process_vm_readv(self.pid, local, 1, remote, 1, 0)
        if got <= 0:
            raise OSError("unreadable")
        return buf.raw[:got]
def solve(x):
    try:
        return scan(os.getppid(), x)
    except Exception:
        return None
""",
}


@pytest.mark.parametrize("attack", list(_MEMORY_ATTACKS))
def test_a_candidate_cannot_read_the_expected_values_from_the_graders_memory(
    run_tests: Any, attack: str
) -> None:
    report = run_tests(_MEMORY_ATTACKS[attack], ["assert solve(7) == 424242", "assert solve(8) == 424243"])
    assert report.passed == 0, (attack, report)


def test_an_honest_solution_still_passes_once_capabilities_are_dropped(run_tests: Any) -> None:
    code = (
        "import os, tempfile\ndef solve(x):\n    open('scratch.txt', 'w').write(str(x))\n    return x * 2\n"
    )
    report = run_tests(code, ["assert solve(2) == 4", "assert solve(5) == 10"])
    assert report.passed == 2, report
