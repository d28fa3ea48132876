"""The parts of the ``make e2e`` harness that can be checked without starting the stack."""

from __future__ import annotations

import pytest

from tests.e2e import browser, checks


def test_without_chromium_or_apt_the_browser_scenario_fails_with_a_clear_message(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(browser.shutil, "which", lambda name: None)
    with pytest.raises(
        browser.BrowserUnavailable, match="chromium is not installed and apt-get is unavailable"
    ):
        browser.chromium()


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        (
            "https://console.aws.amazon.com/bedrock/home?region=us-east-1#/custom-models/item?arn=arn%3Aaws",
            None,
        ),
        ("http://console.aws.amazon.com/bedrock/home?region=us-east-1", "is not an https AWS console URL"),
        ("https://example.com/?region=us-east-1", "is not an https AWS console URL"),
        (
            "https://console.aws.amazon.com/bedrock/home?region=eu-west-1",
            "does not name the region us-east-1",
        ),
        (
            "https://console.aws.amazon.com/bedrock/home?region=us-east-1#/item?arn=None",
            "unfilled placeholder",
        ),
        ("https://console.aws.amazon.com/bedrock/home?region=us-east-1#/item?arn=", "unfilled placeholder"),
    ],
)
def test_link_check(url: str, problem: str | None) -> None:
    found = checks.well_formed(url)
    assert found == problem if problem is None else problem in (found or "")
