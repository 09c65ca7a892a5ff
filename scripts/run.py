"""`make run`: the sandbox, the deployment and the app, in one terminal.

Starts the sandbox as its own process (so restarting Django loses nothing),
keeping its state in var/sandbox (so restarting everything loses nothing
either), provisions it (repairing anything missing), migrates, seeds the demo users and serves the app on
127.0.0.1. Ctrl-C stops both. Every step's output goes to this terminal.

Stopping this process by its PID (`kill -TERM` or `kill -INT`, as a service
manager or a script does) stops everything it started too. Each child runs
in a process group of its own, and stopping signals the whole group: the
autoreloader of `runserver` is a parent that serves nothing while its child
holds the port, and signalling that parent alone (or a terminal's Ctrl-C
reaching only the shell's group) used to leave the child serving as an
orphan. A group that has not gone within STOP_TIMEOUT is killed.
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
STOP_TIMEOUT = 10  # seconds a child group has to exit after SIGTERM before SIGKILL (the sandbox saves its state)

# Every child process group still running, newest last; stopped in reverse.
_children: list[subprocess.Popen[bytes]] = []


def _port_open(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.2)
        return probe.connect_ex((HOST, port)) == 0


def _start(args: list[str]) -> subprocess.Popen[bytes]:
    """Start `args` in a new process group (its PGID is its PID), remembered for _stop_all."""
    child = subprocess.Popen(args, cwd=ROOT, process_group=0)
    _children.append(child)
    return child


def _stop(child: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the child's whole group, then SIGKILL to what is left of it
    after STOP_TIMEOUT. The group is signalled even when its leader has
    exited: runserver's reloader child can outlive its parent."""
    try:
        os.killpg(child.pid, signal.SIGTERM)
    except ProcessLookupError:  # the whole group is gone already
        pass
    try:
        child.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        pass
    deadline = time.monotonic() + STOP_TIMEOUT
    while _group_alive(child.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        os.killpg(child.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    child.wait()


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # a member we cannot signal still exists
        return True
    return True


def _stop_all() -> None:
    # A second Ctrl-C or SIGTERM while stopping must not cut the stopping short.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    while _children:
        _stop(_children.pop())


def _manage(*args: str) -> None:
    step = _start([PYTHON, "manage.py", *args])
    returncode = step.wait()
    _children.remove(step)
    if returncode:
        raise subprocess.CalledProcessError(returncode, step.args)


def _wait_for(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"The sandbox exited with status {process.returncode}; see its message above.")
        if _port_open(port):
            return
        time.sleep(0.1)
    raise SystemExit(f"The sandbox did not start listening on {HOST}:{port} within {READY_TIMEOUT} s.")


def oidc_arguments(*, port: int, sandbox_port: int) -> list[str]:
    """The sandbox's OIDC provider as the app expects it: Photoshare's client
    with the app's callback as its one redirect URI, and the issuer named as
    the browser reaches it (localhost: see OIDC_ISSUER in .env.example). The
    defaults are the settings' own, so the app and the provider agree."""
    client_id = os.environ.get("OIDC_CLIENT_ID") or "photoshare-web"
    secret = os.environ.get("OIDC_CLIENT_SECRET") or "photoshare-sandbox-oidc-secret"
    issuer = os.environ.get("OIDC_ISSUER") or f"http://localhost:{sandbox_port}/_sandbox/oidc"
    callback = f"http://{HOST}:{port}/accounts/oidc/callback/"
    return ["--oidc-client", f"{client_id}:{secret}:{callback}", "--oidc-issuer", issuer]


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt


def main() -> int:
    # Ctrl-C, SIGINT and SIGTERM all end in the `finally` below, which stops
    # every child group (the sandbox last, so it saves its state); set
    # explicitly, since a shell may start us with SIGINT ignored.
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
    try:
        sandbox = _start(
            [
                PYTHON, "-m", "sandbox", "--host", HOST, "--port", str(sandbox_port), "--data-dir", str(data_dir),
                *oidc_arguments(port=port, sandbox_port=sandbox_port),
            ]
        )
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
        _start([PYTHON, "manage.py", "runserver", f"{HOST}:{port}"]).wait()
    except subprocess.CalledProcessError as exc:
        print(f"`{' '.join(exc.cmd[1:])}` failed (exit {exc.returncode}); see the message above.", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        pass
    finally:
        _stop_all()
    return 0


if __name__ == "__main__":
    sys.exit(main())
