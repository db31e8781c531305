"""Shared test settings: a plain, reproducible environment for every test, and the ``cli``
fixture that runs the real `gru-tui` command in a subprocess, as a user's shell would.

Every ``cli(...)`` goes through ``python -m gru_tui``: real exit codes, real stdout and stderr,
and any traceback in plain sight.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pytest

import gru_tui

# The environment a test starts from: no colour or width settings from the developer's shell.
STRIPPED_ENV = ("NO_COLOR", "FORCE_COLOR", "CLICOLOR_FORCE", "COLUMNS", "LINES", "TEXTUAL_THEME")

# SPEC §2: the built-in example.
SLIDE_X1 = [0.5, -0.3, 0.8]
SLIDE_H0 = [0.2, 0.4, -0.1]
SLIDE_C0 = [0.6, -0.2, 0.3]

# SPEC §3: the keys every record has, in order.
RECORD_KEYS = {
    "gru": ["model", "t", "x", "h_prev", "reset", "update", "candidate", "h"],
    "lstm": ["model", "t", "x", "h_prev", "c_prev", "forget", "input", "output", "candidate",
             "c", "h"],
    "rnn": ["model", "t", "x", "h_prev", "h"],
}


@dataclass(frozen=True)
class Result:
    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    def records(self) -> list[dict]:
        """stdout as JSON Lines, after checking the run succeeded quietly."""
        assert self.returncode == 0, self.stderr
        assert self.stderr == "", self.stderr
        assert self.stdout.endswith("\n"), self.stdout[-200:]
        return [json.loads(line) for line in self.stdout.splitlines()]


def cli_env(env: dict[str, str] | None = None) -> dict[str, str]:
    environment = {k: v for k, v in os.environ.items() if k not in STRIPPED_ENV}
    environment.update(env or {})
    return environment


def run_cli(*args: str, stdin: str | bytes | None = None, env: dict[str, str] | None = None,
            cwd=None, address_space: int | None = None, prefix: tuple[str, ...] = (),
            timeout: float = 300) -> Result:
    """`python -m gru_tui ARGS`, with stdin closed unless given.

    `address_space` caps the process's memory (RLIMIT_AS, bytes), so a run that would take
    gigabytes fails with MemoryError instead of taking the machine; `prefix` runs it under
    another command (strace …).
    """
    data = stdin.encode() if isinstance(stdin, str) else stdin

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))

    completed = subprocess.run(
        [*prefix, sys.executable, "-m", "gru_tui", *args],
        input=data,
        stdin=subprocess.DEVNULL if data is None else None,
        capture_output=True,
        env=cli_env(env),
        cwd=cwd,
        timeout=timeout,  # a guard against a hang, not a speed test
        preexec_fn=None if address_space is None else limit,
    )
    return Result(tuple(args), completed.returncode, completed.stdout.decode("utf-8"),
                  completed.stderr.decode("utf-8", errors="replace"))


def api_trace(kind: str, xs, h0=None, c0=None, hidden: int | None = None, seed: int = 0,
              **settings):
    """The same run through the Python API of SPEC §8."""
    xs = np.asarray(xs, dtype=np.float64)
    H = hidden or (len(h0) if h0 is not None else 3)
    cell = gru_tui.random_cell(kind, xs.shape[1], H, seed=seed, **settings)
    return cell.run(xs, h0, c0 if kind == "lstm" else None)


def assert_matches_api(records: list[dict], kind: str, h0=None, c0=None, **settings) -> None:
    """Every record of `kind` equals, float for float, the API run on the records' own x."""
    mine = [r for r in records if r["model"] == kind]
    assert mine, f"no {kind} records"
    xs = [r["x"] for r in mine]
    trace = api_trace(kind, xs, h0, c0, **settings)
    for step, record in enumerate(mine):
        for key in RECORD_KEYS[kind][2:]:
            assert record[key] == trace[key][step].tolist(), (kind, record["t"], key)


class CLI:
    """What the tests of this folder share, handed out by the ``cli`` fixture."""

    SLIDE_X1 = SLIDE_X1
    SLIDE_H0 = SLIDE_H0
    SLIDE_C0 = SLIDE_C0
    RECORD_KEYS = RECORD_KEYS
    env = staticmethod(cli_env)
    api_trace = staticmethod(api_trace)
    assert_matches_api = staticmethod(assert_matches_api)

    def __call__(self, *args: str, **kwargs) -> Result:
        return run_cli(*args, **kwargs)

    def records(self, *args: str, **kwargs) -> list[dict]:
        return run_cli(*args, **kwargs).records()

    @staticmethod
    def assert_bad(result: Result, *needles: str) -> str:
        """Exit 2, empty stdout, one stderr line holding every needle; returns the line."""
        assert "Traceback" not in result.stderr + result.stdout, result.stderr
        assert result.returncode == 2, (result.args, result.returncode, result.stderr)
        assert result.stdout == "", result.args
        lines = result.stderr.splitlines()
        assert len(lines) == 1 and lines[0].strip(), result.stderr
        for needle in needles:
            assert needle in lines[0], (needle, lines[0])
        return lines[0]

    @staticmethod
    def many(runs: dict[str, tuple[list[str], dict]]) -> dict[str, Result]:
        """Several independent runs at once, {name: (args, keywords of cli)} → {name: Result}.

        Each is its own process, exactly as one at a time; this only saves waiting.
        """
        workers = max(2, os.cpu_count() or 2)
        with ThreadPoolExecutor(max_workers=workers) as pool:
            futures = {name: pool.submit(run_cli, *args, **kwargs)
                       for name, (args, kwargs) in runs.items()}
            return {name: future.result() for name, future in futures.items()}


@pytest.fixture(scope="session")
def cli() -> CLI:
    """``cli(*args)`` runs the command; ``cli.records(*args)`` parses its JSON Lines."""
    return CLI()


@pytest.fixture(autouse=True)
def _plain_environment(monkeypatch):
    """Colour and theme come from the test, never from the developer's shell."""
    for name in ("NO_COLOR", "TEXTUAL_THEME", "FORCE_COLOR", "COLUMNS", "LINES"):
        monkeypatch.delenv(name, raising=False)
