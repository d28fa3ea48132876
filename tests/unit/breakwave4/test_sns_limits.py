"""Break wave 4: SNS messages that SNS would refuse (or mangle) are sent within its limits.

SNS takes at most 256 KiB (262,144 bytes) of UTF-8 per message and a subject of ASCII text without line
breaks or control characters, under 100 characters. A training failure's text (it can quote model output)
or a family name from a hand-written DAG must not make the message bounce, which loses the notification.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.sns.models import sns_backends

from bedrock_rft_provider.evaluation.brief import SNS_MESSAGE_BYTES, evaluation_brief, sns_message, subject
from bedrock_rft_provider.notifications import BedrockRFTNotifier

HOSTILE = "caf\u00e9 \u202eevil\x1b[31m\x00\x07 \ud800 \U0001f600"


class FakeTI:
    dag_id, run_id, task_id = "bedrock_rft_retraining", "manual__1", "train"

    def xcom_pull(self, task_ids: str, key: str = "return_value") -> Any:
        return None


@pytest.fixture
def topic() -> Iterator[str]:
    """A moto SNS topic (what was published is read from moto's record of it)."""
    with mock_aws():
        yield boto3.client("sns", "us-east-1").create_topic(Name="rft")["TopicArn"]


def published(topic_arn: str) -> list[tuple[str, str | None]]:
    """``(message, subject)`` of each message SNS accepted on ``topic_arn``."""
    topic = sns_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].topics[topic_arn]
    return [(message, subject) for _id, message, subject, *_rest in topic.sent_notifications]


def printable_ascii(text: str) -> bool:
    return all(" " <= ch <= "~" for ch in text)


@pytest.mark.parametrize("family", [HOSTILE, "f" * 200, "gsm8k\nInjected: header"])
def test_subjects_are_one_line_of_printable_ascii_under_the_limit(family: str) -> None:
    text = subject("promotion", family, "version 12")
    assert printable_ascii(text) and len(text) <= 100 and text.startswith("Bedrock RFT")


def test_a_huge_failure_is_cut_to_what_sns_takes_in_escaped_bytes_not_characters(topic: str) -> None:
    error = RuntimeError("training failed: " + "\u00e9" * 200_000 + HOSTILE)  # 400 KB of UTF-8
    notifier = BedrockRFTNotifier(event="job_failure", topic_arn=topic, family="f" * 200, aws_conn_id=None)
    notifier.notify({"ti": FakeTI(), "exception": error})  # type: ignore[arg-type]
    [(sent, title)] = published(topic)
    # The amazon provider's SnsHook publishes {"default": message} as a JSON message structure.
    assert len(json.dumps({"default": json.loads(sent)["default"]}).encode()) <= SNS_MESSAGE_BYTES
    message = json.loads(sent)["default"]
    assert message.startswith("DAG bedrock_rft_retraining, run manual__1, task train")
    assert "(cut: " in message  # the reader is told the text was cut
    assert title is not None and printable_ascii(title) and len(title) <= 100


def test_control_characters_and_lone_surrogates_are_dropped_but_lines_are_kept() -> None:
    text = sns_message(f"line one\n\tline two {HOSTILE}")
    text.encode("utf-8")  # a lone surrogate would raise here (botocore encodes the same way)
    assert "\x1b" not in text and "\x00" not in text and "\x07" not in text and "\u202e" not in text
    assert text.startswith("line one\n\tline two caf\u00e9") and "\U0001f600" in text


def test_a_message_within_the_limit_is_unchanged() -> None:
    assert sns_message("a\nb \u00e9") == "a\nb \u00e9"


def test_hostile_text_in_the_brief_cannot_inject_markdown_or_html() -> None:
    """The approval UI renders the brief as Markdown: a model id or reason must stay plain text."""
    summary = {"model_id": "x](http://evil.example/a.png)<img src=x onerror=alert(1)>\n# Approved", "n": 3}
    decision = {"promote": True, "reasons": ["ok `code` | cell [link](http://evil.example)" + "r" * 10_000]}
    text = evaluation_brief(summary, decision, family="gsm8k")
    prose = [line for line in text.splitlines() if not line.startswith("|")]  # the table is ours
    for construct in (r"\]\(", "<", "`", r"\|"):  # link/image target, HTML, code span, table cell
        assert not any(re.search(r"(?<!\\)" + construct, line) for line in prose), construct
    assert [line for line in prose if line.startswith("#")] == [prose[0]]  # no injected heading
    assert len(text) < 5_000  # one reason of 10 k characters is cut, the brief stays readable


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)
KEYS = st.sampled_from(["model_id", "n", "mean_reward", "delta", "delta_ci95", "p_value", "baseline",
                        "response_length", "error_rate", "accuracy", "promote", "reasons"])  # fmt: skip


@settings(max_examples=40, deadline=None)
@given(summary=st.dictionaries(KEYS, JSONISH), decision=st.none() | st.dictionaries(KEYS, JSONISH))
def test_any_summary_and_decision_give_a_brief_that_sns_takes(summary: Any, decision: Any) -> None:
    """An evaluation summary read back from S3 is data, not a promise: the brief (the approval body and
    every message) renders for any JSON-like content instead of failing the approval task."""
    text = sns_message(evaluation_brief(summary, decision, family="gsm8k"))
    assert text.startswith("### Challenger")
