"""scripts/run.py (`make run`) stops everything it started when it is
stopped by its PID, as a service manager or a script stops it: no orphan of
runserver's autoreloader left serving the port, no sandbox left behind.

Real processes on free loopback ports, a var directory of this module's own
(shared by both tests, so the second start migrates and provisions nothing
new)."""

from __future__ import annotations

import signal
import subprocess
import time

import pytest

from tests.scripts.make_run import alive, descendants, listening, make_run_kill, make_run_start

STOP_WITHIN = 30  # seconds: run.py gives each child group 10 s before SIGKILL


@pytest.fixture(scope="module")
def var_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("make-run-var")


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_stopping_run_by_pid_stops_every_child(var_dir, tmp_path, signum):
    """run.py killed by PID with SIGTERM or SIGINT exits 0, both ports close and no process it started remains."""
    log = (tmp_path / "run.log").open("wb")
    run = make_run_start(var_dir=var_dir, output=log)
    started: list[tuple[int, int]] = []
    try:
        started = descendants(run.process.pid)
        # The sandbox, runserver's autoreloader and the reloader's child that serves: the orphan of old.
        assert len(started) >= 3, started
        assert listening(run.port) and listening(run.sandbox_port)

        run.process.send_signal(signum)
        try:
            returncode = run.process.wait(timeout=STOP_WITHIN)
        except subprocess.TimeoutExpired:
            pytest.fail(f"run.py did not exit within {STOP_WITHIN} s of {signum.name}")
        deadline = time.monotonic() + 5  # an orphan would be reparented, not gone: waiting does not hide one
        while any(alive(process) for process in started) and time.monotonic() < deadline:
            time.sleep(0.1)
        left = [process for process in started if alive(process)]
    finally:
        make_run_kill(run, also=started)
        log.close()
    assert returncode == 0, (tmp_path / "run.log").read_text()[-2000:]
    assert left == [], f"still running after {signum.name}: {left}"
    assert not listening(run.port), "the app's port still answers"
    assert not listening(run.sandbox_port), "the sandbox's port still answers"
