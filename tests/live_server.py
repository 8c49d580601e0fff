"""A real `gridpoints serve` process in a folder of its own, for tests that drive a browser.

It goes the way an operator goes: `gridpoints migrate`, `gridpoints demo --json`, then
`gridpoints serve`, all on the embedded default (SQLite under `./var/`, jobs in the process),
so the pages are tested against the very process people start.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

STARTUP_TIMEOUT_SECONDS = 30.0
COMMAND_TIMEOUT_SECONDS = 120.0
# Settings that would point the server away from its own folder's SQLite and in-process jobs.
_OUTSIDE_SETTINGS = (
    "DATABASE_URL",
    "REDIS_URL",
    "GRIDPOINTS_VAR_DIR",
    "SECRET_KEY",
    "GRIDPOINTS_AUDIT_KEY",
)


@dataclass(frozen=True)
class LiveServer:
    base_url: str
    password: str
    # role code -> phone of the demo account holding it
    phones: dict[str, str]
    folder: Path
    # The environment its commands run with (the server's own settings).
    environment: dict[str, str] = field(default_factory=dict)

    def command(self, *args: str) -> str:
        """Run a `gridpoints` command on this server's folder (its database); its output."""
        return _run(list(args), self.folder, self.environment or _environment(self.password))

    def sign_in(self, phone: str) -> dict[str, Any]:
        """The login response for a demo account (token and member), as the page gets it."""
        response = httpx.post(
            f"{self.base_url}/api/v1/auth/login",
            json={"phone": phone, "password": self.password},
            timeout=10,
        )
        assert response.status_code == 200, response.text
        return response.json()


def gridpoints_command() -> list[str]:
    """The `gridpoints` console script of the interpreter running the tests.

    `python -m gridpoints.cli` is no way in: the module has no `__main__` block, so it exits 0
    having done nothing. The script sits beside `sys.executable` (not resolved: a venv's
    `python` is a symlink out of the venv).
    """
    script = Path(sys.executable).parent / "gridpoints"
    if script.is_file():
        return [str(script)]
    found = shutil.which("gridpoints")
    if found:
        return [found]
    raise FileNotFoundError(f"no `gridpoints` command beside {sys.executable} or on PATH")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _environment(password: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _OUTSIDE_SETTINGS}
    env["GRIDPOINTS_DEMO_PASSWORD"] = password
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _run(args: list[str], folder: Path, env: dict[str, str]) -> str:
    done = subprocess.run(
        [*gridpoints_command(), *args],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT_SECONDS,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"`gridpoints {' '.join(args)}` exited {done.returncode}:\n{done.stderr[-3000:]}"
        )
    return done.stdout


def _demo_phones(stdout: str) -> dict[str, str]:
    # Log lines may come first; the JSON document is the last line.
    report = json.loads(stdout.strip().splitlines()[-1])
    return {account["role"]: account["phone"] for account in report["accounts"]}


def _wait_until_healthy(base_url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"`gridpoints serve` exited {process.returncode}:\n{log.read_text()[-3000:]}"
            )
        try:
            if httpx.get(f"{base_url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(
        f"`gridpoints serve` not healthy after {STARTUP_TIMEOUT_SECONDS:.0f} s:\n"
        f"{log.read_text()[-3000:]}"
    )


@contextmanager
def run_live_server(
    folder: Path, password: str, settings: dict[str, str] | None = None
) -> Iterator[LiveServer]:
    """Migrate, build the demo community and serve it from `folder`; stop the server after.
    `settings` (environment variables such as DATABASE_URL and the keys) point it elsewhere
    than its own folder's SQLite file."""
    env = {**_environment(password), **(settings or {})}
    _run(["migrate"], folder, env)
    phones = _demo_phones(_run(["demo", "--json"], folder, env))
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    log = folder / "serve.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [*gridpoints_command(), "serve", "--port", str(port)],
            cwd=folder,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_until_healthy(base_url, process, log)
        yield LiveServer(
            base_url=base_url, password=password, phones=phones, folder=folder, environment=env
        )
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
