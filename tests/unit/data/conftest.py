"""Fixtures for the dataset tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.data.helpers import FIXTURES


@pytest.fixture
def fixtures_dir() -> Path:
    """tests/fixtures/data."""
    return FIXTURES
