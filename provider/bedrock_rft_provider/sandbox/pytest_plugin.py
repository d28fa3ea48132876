"""pytest plugin (entry point ``pytest11``): fixtures that run the Bedrock RFT sandbox for tests.

Imports nothing heavy at module level: pytest loads this module in every test run.
"""

from __future__ import annotations
