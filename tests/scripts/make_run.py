"""`make run` as a test or a benchmark starts it: scripts/run.py itself, on
free loopback ports with a var directory of the caller's own, awaited until
the app answers, and the processes it started listed from /proc.

Shared by tests/scripts/test_run.py and bench/load.py."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import requests

from sandbox.server import accepts, free_port

REPO = Path(__file__).resolve().parents[2]
READY_TIMEOUT = 120  # seconds: sandbox, provision, migrate, seed, runserver, on a busy 2-core machine
# Settings a caller's environment may hold that would point the app elsewhere
# (pytest-django's test settings, another run's ports and files).
_NOT_INHERITED = ("DJANGO_SETTINGS_MODULE", "DATABASE_PATH", "PHOTOSHARE_DEPLOYMENT_FILE", "AWS_ENDPOINT_URL",
                  "AWS_BROWSER_ENDPOINT_URL", "PHOTOSHARE_NAME", "PHOTOSHARE_BUCKET", "APP_ORIGINS")


@dataclass
class MakeRun:
    process: subprocess.Popen[bytes]
    port: int
    sandbox_port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def sandbox_url(self) -> str:
        return f"http://127.0.0.1:{self.sandbox_port}"


def make_run_start(*, var_dir: Path, output: IO[bytes] | int | None = None, environment: dict[str, str] | None = None) -> MakeRun:
    """Start scripts/run.py (what `make run` runs) on free ports, keeping
    everything in `var_dir`; returns once GET / answers 200. Its output goes
    to `output` (a file, subprocess.DEVNULL; None: this terminal)."""
    port, sandbox_port = free_port(), free_port()
    env = {key: value for key, value in os.environ.items() if key not in _NOT_INHERITED}
    env.update({"PORT": str(port), "SANDBOX_PORT": str(sandbox_port), "PHOTOSHARE_VAR_DIR": str(var_dir), **(environment or {})})
    process = subprocess.Popen([sys.executable, "scripts/run.py"], cwd=REPO, env=env, stdout=output, stderr=output)
    run = MakeRun(process=process, port=port, sandbox_port=sandbox_port)
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"scripts/run.py exited with {process.returncode} before serving")
        if accepts(port):
            try:
                if requests.get(f"{run.url}/", timeout=5).status_code == 200:
                    return run
            except requests.RequestException:
                pass
        time.sleep(0.2)
    make_run_kill(run)
    raise RuntimeError(f"scripts/run.py did not serve {run.url}/ within {READY_TIMEOUT} s")


def make_run_kill(run: MakeRun, *, also: list[tuple[int, int]] = ()) -> None:
    """Last resort for a caller's cleanup: SIGKILL run.py, every process it
    started, and the processes in `also` (listed earlier: an orphan is no
    longer anyone's descendant)."""
    for process in [*reversed(descendants(run.process.pid)), *also]:
        if alive(process):
            try:
                os.kill(process[0], signal.SIGKILL)
            except ProcessLookupError:
                pass
    if run.process.poll() is None:
        run.process.kill()
    run.process.wait()


# --- processes, from /proc --------------------------------------------------------------------------

def _stat(pid: int) -> tuple[int, str, int] | None:
    """(parent PID, state, start time in clock ticks) of `pid`, or None if it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    # The command name is in parentheses and may hold spaces or ')': split after its last ')'.
    fields = raw[raw.rindex(")") + 2 :].split()
    return int(fields[1]), fields[0], int(fields[19])


def descendants(pid: int) -> list[tuple[int, int]]:
    """Every living descendant of `pid` as (PID, start time): the start time
    tells a process from a later one that reuses its PID."""
    children: dict[int, list[tuple[int, int]]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (stat := _stat(int(entry.name))) is not None:
            children.setdefault(stat[0], []).append((int(entry.name), stat[2]))
    found, queue = [], [pid]
    while queue:
        for child in children.get(queue.pop(), []):
            found.append(child)
            queue.append(child[0])
    return found


def alive(process: tuple[int, int]) -> bool:
    """Whether this very process (PID and start time) still exists and is not a zombie."""
    stat = _stat(process[0])
    return stat is not None and stat[2] == process[1] and stat[1] != "Z"


def listening(port: int) -> bool:
    return accepts(port)
