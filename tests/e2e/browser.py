"""Scenario 7: the evaluation report opened in a real headless browser (Debian's chromium).

chromium is installed with apt when missing. The page is loaded from a copy with a small script
appended that records, after ``load``, whether every image decoded (``naturalWidth > 0``); chromium's
``--dump-dom`` prints the DOM with that record, and ``--screenshot`` saves the page with the logs.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import tempfile

from tests.e2e import aws
from tests.e2e.stack import Stack

PROBE = """<script>
window.addEventListener("load", function () {
  var images = Array.prototype.map.call(document.images, function (img) {
    return {alt: img.alt, loaded: img.complete && img.naturalWidth > 0, width: img.naturalWidth};
  });
  var out = document.createElement("pre");
  out.id = "e2e-images";
  out.textContent = JSON.stringify(images);
  document.body.appendChild(out);
});
</script>"""
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
]  # fmt: skip
BROWSER_TIMEOUT = 180


class BrowserUnavailable(AssertionError):
    """chromium is missing and could not be installed; the message says why."""


def chromium() -> str:
    """The chromium binary, installed with apt (``apt-get update`` first) when missing."""
    for name in ("chromium", "chromium-browser"):
        if found := shutil.which(name):
            return found
    if not shutil.which("apt-get"):
        raise BrowserUnavailable("chromium is not installed and apt-get is unavailable: install chromium")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for argv in (["apt-get", "update"], ["apt-get", "install", "-y", "--no-install-recommends", "chromium"]):
        result = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=900, check=False)
        if result.returncode != 0:
            raise BrowserUnavailable(
                f"`{' '.join(argv)}` failed ({result.returncode}): {result.stderr[-500:]}"
            )
    found = shutil.which("chromium")
    if not found:
        raise BrowserUnavailable("apt-get installed chromium but no `chromium` is on PATH")
    return found


def _run(browser: str, *args: str) -> str:
    with tempfile.TemporaryDirectory(prefix="bedrock-rft-e2e-chromium-") as profile:
        result = subprocess.run(
            [browser, *FLAGS, f"--user-data-dir={profile}", *args],
            capture_output=True, text=True, timeout=BROWSER_TIMEOUT, check=False,
        )  # fmt: skip
    if result.returncode != 0:
        raise AssertionError(f"chromium exited {result.returncode}: {result.stderr[-500:]}")
    return result.stdout


def report_in_browser(stack: Stack) -> str:
    """7. report.html: every plot image loads, the headline numbers are on the page; a screenshot."""
    run_id = stack.state["happy_run"]
    prefix = f"retraining/{run_id}/evaluation/"
    keys = aws.bucket_keys(stack.sandbox, prefix)
    assert f"{prefix}report.html" in keys, f"no report.html under s3://{aws.BUCKET}/{prefix}: {keys}"
    s3 = stack.sandbox.client("s3")
    page = s3.get_object(Bucket=aws.BUCKET, Key=f"{prefix}report.html")["Body"].read().decode()
    summary = aws.read_json(stack.sandbox, f"{prefix}summary.json")
    report = stack.logs / "report.html"
    report.write_text(page)
    probed = stack.logs / "report-probed.html"
    probed.write_text(page.replace("</body>", PROBE + "</body>") if "</body>" in page else page + PROBE)
    browser = chromium()
    dom = _run(browser, "--virtual-time-budget=10000", "--dump-dom", probed.as_uri())
    match = re.search(r'<pre id="e2e-images">(.*?)</pre>', dom, re.S)
    assert match, "the page's load handler never ran (no image record in the DOM)"
    images = json.loads(html.unescape(match.group(1)))
    assert images, "the report has no plot images"
    broken = [i["alt"] for i in images if not i["loaded"]]
    assert not broken, f"images that did not load: {broken}"
    text = re.sub(r"<[^>]+>", " ", dom)
    headline = [f"{summary['mean_reward']:.4f}", str(summary["n"])]
    missing = [value for value in headline if value not in text]
    assert not missing, f"headline numbers missing from the rendered page: {missing}"
    screenshot = stack.logs / "report.png"
    _run(browser, "--window-size=1280,2400", f"--screenshot={screenshot}", report.as_uri())
    assert screenshot.stat().st_size > 10_000, "the screenshot is (nearly) empty"
    return (
        f"{len(images)} plot images loaded; mean reward {headline[0]} and n={headline[1]} shown; {screenshot}"
    )
