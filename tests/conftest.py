"""Shared fixtures. Tests never reach a hosted model: requests are blocked for the session."""

from __future__ import annotations

import os

os.environ["AGENTKIT_ALLOW_MODEL_REQUESTS"] = "0"
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402


@pytest.fixture
def db(tmp_path: Path) -> str:
    return str(tmp_path / "runs.db")


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    path = tmp_path / "ws"
    path.mkdir()
    return path
