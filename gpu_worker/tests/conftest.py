"""Shared fixtures for the gpu_worker tests (no Django involved)."""

from __future__ import annotations

import pytest

from gpu_worker.schemas import InputLimits


@pytest.fixture
def limits() -> InputLimits:
    return InputLimits()
