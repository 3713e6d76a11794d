"""Helpers the tests share: run the real ``twin`` command, query the database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
TEST_HOME = ROOT / ".twin" / "test"
REAL_DATA = ROOT.parent / "shared" / "data" / "real"


def twin_env(**overrides: str | None) -> dict[str, str]:
    """The environment for a twin subprocess: the tests' own cluster unless overridden."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("TWIN_")}
    env.update(TWIN_HOME=str(TEST_HOME), TWIN_PG_PORT="55440")
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def run_twin(*args: str, check: bool = True, **env: str | None) -> subprocess.CompletedProcess[str]:
    """Run the real ``twin`` command line and return what it printed."""
    result = subprocess.run(
        [sys.executable, "-m", "twin", *args], capture_output=True, text=True, env=twin_env(**env), cwd=ROOT
    )
    if check and result.returncode != 0:
        raise AssertionError(f"twin {' '.join(args)} failed ({result.returncode}):\n{result.stderr}")
    return result


def sql(url: str, query: str, *params: object) -> list[tuple]:
    """Run one statement; its rows, or [] for a statement that returns none."""
    with psycopg.connect(url) as conn:
        cursor = conn.execute(query, params or None)
        return cursor.fetchall() if cursor.description else []
