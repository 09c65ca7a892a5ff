"""`make run`: the sandbox, the deployment and the app, in one terminal.

Starts the sandbox as its own process (so restarting Django loses nothing),
keeping its state in var/sandbox (so restarting everything loses nothing
either), provisions it (repairing anything missing), migrates, seeds the demo users and serves the app on
127.0.0.1. Ctrl-C stops both. Every step's output goes to this terminal.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
HOST = "127.0.0.1"
READY_TIMEOUT = 30  # seconds to wait for the sandbox to accept connections


def _port_open(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.2)
        return probe.connect_ex((HOST, port)) == 0


def _manage(*args: str) -> None:
    subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, check=True)


def _wait_for(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"The sandbox exited with status {process.returncode}; see its message above.")
        if _port_open(port):
            return
        time.sleep(0.1)
    raise SystemExit(f"The sandbox did not start listening on {HOST}:{port} within {READY_TIMEOUT} s.")


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt


def main() -> int:
    # Ctrl-C and SIGTERM both end in the `finally` below, which stops the sandbox
    # cleanly (it saves its state); set explicitly, since a shell may start us
    # with SIGINT ignored.
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    port = int(os.environ.get("PORT", "8000"))
    sandbox_port = int(os.environ.get("SANDBOX_PORT", "4566"))
    for name, value in (("SANDBOX_PORT", sandbox_port), ("PORT", port)):
        if _port_open(value):
            print(f"Port {value} is already in use (another `make run`?). Stop it or set {name}=<free port>.", file=sys.stderr)
            return 1
    os.environ.setdefault("PHOTOSHARE_AWS", "local")
    # The sandbox keeps its state here, so users and photos survive a restart.
    data_dir = Path(os.environ.get("PHOTOSHARE_VAR_DIR", ROOT / "var")) / "sandbox"
    sandbox = subprocess.Popen(
        [PYTHON, "-m", "sandbox", "--host", HOST, "--port", str(sandbox_port), "--data-dir", str(data_dir)], cwd=ROOT
    )
    try:
        _wait_for(sandbox_port, sandbox)
        _manage("provision")
        _manage("migrate", "--noinput", "--verbosity", "0")
        _manage("seed_demo_users")
        print(
            f"\n  Photoshare is at http://{HOST}:{port}/ (only there: localhost redirects to it)\n"
            f"  The sandbox (S3 and every AWS API) is at http://localhost:{sandbox_port} for the browser, on another\n"
            f"  host than the app's so the two share no cookies, and at http://{HOST}:{sandbox_port} for the server.\n"
            f"  Sign in as alice@example.com, bob@example.com or carol@example.com (moderator)\n"
            f"  with the password {os.environ.get('DEMO_PASSWORD', 'Photoshare-Demo-1')}. Ctrl-C stops the app and the sandbox.\n",
            flush=True,
        )
        subprocess.run([PYTHON, "manage.py", "runserver", f"{HOST}:{port}"], cwd=ROOT)
    except subprocess.CalledProcessError as exc:
        print(f"`{' '.join(exc.cmd[1:])}` failed (exit {exc.returncode}); see the message above.", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        pass
    finally:
        if sandbox.poll() is None:
            sandbox.send_signal(signal.SIGTERM)
            try:
                sandbox.wait(timeout=10)
            except subprocess.TimeoutExpired:
                sandbox.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main())
