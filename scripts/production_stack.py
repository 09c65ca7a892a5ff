"""The production settings, running here for real: PostgreSQL, the sandbox and
several gunicorn processes sharing one database, all on loopback.

    with production_stack(web_processes=2) as stack:
        stack.web_urls      # ["http://127.0.0.1:<port>", ...], one per gunicorn process
        stack.sandbox_url   # the sandbox as the server reaches it
        stack.database_url  # the PostgreSQL both processes use

Used by tests/deploy/test_two_processes.py (a session started in one process
goes on in the other) and bench/load.py (gunicorn plus PostgreSQL under load).
`python scripts/production_stack.py` starts one and waits for Ctrl-C.

Everything lives in one temporary directory and listens on 127.0.0.1 only
(PostgreSQL's unix socket stays inside that directory); every wait is bounded,
and leaving the block stops each process and deletes the directory. As root,
PostgreSQL runs as the `postgres` user, since `initdb` refuses root.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
HOST = "127.0.0.1"
START_TIMEOUT = 60  # seconds for each process to answer
STOP_TIMEOUT = 15  # seconds for each process to stop before it is killed
COMMAND_TIMEOUT = 180  # seconds for each manage.py command (collectstatic is the slow one)
DATABASE = "photoshare"
DATABASE_USER = "photoshare"
# Settings other environments may have exported that must not leak in here.
_FOREIGN = ("DJANGO_", "PHOTOSHARE_", "AWS_", "DATABASE_", "GUNICORN_", "COGNITO_", "APP_ORIGINS", "ALLOWED_HOSTS", "STATIC_ROOT", "PG")


class ProductionStackUnavailable(RuntimeError):
    """PostgreSQL's server programs cannot be had on this machine; the message says why."""


@dataclass(frozen=True)
class Stack:
    web_urls: list[str]
    sandbox_url: str
    database_url: str
    # The environment every web process runs with (settings module, secret key,
    # endpoints, the deployment file...), for running manage.py against the stack.
    env: dict[str, str] = field(default_factory=dict, repr=False)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def postgres_bin_dir() -> Path:
    """The directory holding `initdb`, `pg_ctl` and `postgres`: on PATH, else
    Debian's /usr/lib/postgresql/<version>/bin (the newest)."""
    on_path = shutil.which("initdb")
    candidates = [Path(on_path).resolve().parent] if on_path else []
    candidates += sorted((Path(p) for p in glob.glob("/usr/lib/postgresql/*/bin")), key=lambda p: _version(p.parent.name), reverse=True)
    for directory in candidates:
        if all((directory / name).is_file() for name in ("initdb", "pg_ctl", "postgres")):
            return directory
    raise ProductionStackUnavailable(
        "PostgreSQL's server programs (initdb, pg_ctl, postgres) are not on PATH or in /usr/lib/postgresql/*/bin; "
        "`make postgres` installs Debian's postgresql"
    )


def _version(name: str) -> tuple[int, ...]:
    return tuple(int(part) for part in name.split(".") if part.isdigit())


def _postgres_account() -> pwd.struct_passwd | None:
    """Who runs PostgreSQL: None for the current user, the `postgres` user when we are root."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam("postgres")
    except KeyError:
        raise ProductionStackUnavailable(
            "running as root, and initdb refuses root, but there is no `postgres` user to run PostgreSQL as; "
            "Debian's postgresql package creates it (`make postgres`)"
        ) from None


def _as(account: pwd.struct_passwd | None) -> dict[str, object]:
    """subprocess arguments that run a command as `account` (nothing to change for the current user)."""
    if account is None:
        return {}
    return {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}


def _wait(ready: Callable[[], bool], process: subprocess.Popen[bytes], what: str, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with status {process.returncode}:\n{_tail(log)}")
        if ready():
            return
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not answer within {START_TIMEOUT} s:\n{_tail(log)}")


def _tail(log: Path, lines: int = 30) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no output)"


def _accepts(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex((HOST, port)) == 0


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (our own loopback URL)
            return response.status == 200
    except OSError:
        return False


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_TIMEOUT)


def _start(command: list[str], *, log: Path, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)


@contextlib.contextmanager
def _postgres(base: Path, *, max_connections: int) -> Iterator[str]:
    """A throwaway PostgreSQL cluster on 127.0.0.1:<free port>; yields its URL."""
    bin_dir = postgres_bin_dir()
    account = _postgres_account()
    home = base / "postgres"
    home.mkdir(mode=0o700)
    if account is not None:
        os.chmod(base, 0o711)  # the postgres user may pass through to its own directory, and read nothing else
        os.chown(home, account.pw_uid, account.pw_gid)
    password = secrets.token_hex(16)
    password_file = home / "password"
    password_file.write_text(password + "\n")
    password_file.chmod(0o600)
    if account is not None:
        os.chown(password_file, account.pw_uid, account.pw_gid)
    data, log, port = home / "data", home / "server.log", _free_port()
    initdb = [
        str(bin_dir / "initdb"), "-D", str(data), "-U", DATABASE_USER, f"--pwfile={password_file}",
        "--auth-local=scram-sha-256", "--auth-host=scram-sha-256", "--encoding=UTF8", "--no-locale", "--no-sync",
    ]  # fmt: skip
    done = subprocess.run(initdb, cwd=home, capture_output=True, text=True, timeout=COMMAND_TIMEOUT, **_as(account))
    if done.returncode != 0:
        raise RuntimeError(f"initdb failed:\n{done.stdout}{done.stderr}")
    options = f"-c listen_addresses={HOST} -p {port} -c unix_socket_directories={home} -c max_connections={max_connections}"
    pg_ctl = [str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-t", str(START_TIMEOUT)]
    done = subprocess.run(
        [*pg_ctl, "-o", options, "start"], cwd=home, capture_output=True, text=True, timeout=START_TIMEOUT + 10, **_as(account)
    )
    if done.returncode != 0:
        raise RuntimeError(f"PostgreSQL did not start:\n{done.stdout}{done.stderr}\n{_tail(log)}")
    try:
        import psycopg

        server_url = f"postgresql://{DATABASE_USER}:{password}@{HOST}:{port}"
        with psycopg.connect(f"{server_url}/postgres", autocommit=True, connect_timeout=10) as connection:
            connection.execute(f'CREATE DATABASE "{DATABASE}"')
        yield f"{server_url}/{DATABASE}"
    finally:
        subprocess.run([*pg_ctl, "-m", "fast", "stop"], cwd=home, capture_output=True, timeout=START_TIMEOUT + 10, **_as(account))


@contextlib.contextmanager
def production_stack(*, web_processes: int = 2, workers: int = 2, threads: int = 4) -> Iterator[Stack]:
    """PostgreSQL, the sandbox (provisioned, with the demo users) and
    `web_processes` gunicorn processes with production settings sharing that
    database, each with `workers` workers of `threads` threads."""
    if not (1 <= web_processes <= 8 and 1 <= workers <= 16 and 1 <= threads <= 64):
        raise ValueError("web_processes 1-8, workers 1-16 and threads 1-64")
    postgres_bin_dir()  # fail before starting anything when PostgreSQL cannot be had
    with contextlib.ExitStack() as cleanup:
        base = Path(tempfile.mkdtemp(prefix="photoshare-stack-"))
        cleanup.callback(shutil.rmtree, base, ignore_errors=True)
        connections = web_processes * workers * threads + 20  # one per thread, and room for manage.py
        database_url = cleanup.enter_context(_postgres(base, max_connections=max(100, connections)))

        sandbox_port, logs = _free_port(), base / "logs"
        logs.mkdir()
        sandbox_log = logs / "sandbox.log"
        sandbox = _start(
            [PYTHON, "-m", "sandbox", "--host", HOST, "--port", str(sandbox_port), "--data-dir", str(base / "sandbox")],
            log=sandbox_log,
        )
        cleanup.callback(_stop, sandbox)
        _wait(lambda: _accepts(sandbox_port), sandbox, "The sandbox", sandbox_log)

        ports = [_free_port() for _ in range(web_processes)]
        web_urls = [f"http://{HOST}:{port}" for port in ports]
        env = {key: value for key, value in os.environ.items() if not key.startswith(_FOREIGN)}
        env.update({
            "DJANGO_SETTINGS_MODULE": "photoshare.settings.production",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),  # one for every process: each reads the others' sessions
            "ALLOWED_HOSTS": HOST,
            "PHOTOSHARE_LOOPBACK_HTTP": "true",
            "DATABASE_URL": database_url,
            "PHOTOSHARE_AWS": "local",
            "PHOTOSHARE_VAR_DIR": str(base / "var"),
            "STATIC_ROOT": str(base / "static"),
            "SANDBOX_PORT": str(sandbox_port),
            "AWS_ENDPOINT_URL": f"http://{HOST}:{sandbox_port}",
            "AWS_BROWSER_ENDPOINT_URL": f"http://localhost:{sandbox_port}",
            "APP_ORIGINS": ",".join(web_urls),  # the bucket's CORS rule: every process is the app's origin
            "GUNICORN_WORKERS": str(workers),
            "GUNICORN_THREADS": str(threads),
        })  # fmt: skip
        (base / "var").mkdir(mode=0o700)
        setup_log = logs / "setup.log"
        for command in (["migrate", "--noinput"], ["createcachetable"], ["provision"], ["seed_demo_users"], ["collectstatic", "--noinput"]):
            with setup_log.open("ab") as out:
                done = subprocess.run(
                    [PYTHON, "manage.py", *command], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, timeout=COMMAND_TIMEOUT
                )
            if done.returncode != 0:
                raise RuntimeError(f"`manage.py {' '.join(command)}` failed (exit {done.returncode}):\n{_tail(setup_log)}")

        for port, url in zip(ports, web_urls):
            web_log = logs / f"web-{port}.log"
            web = _start(
                [PYTHON, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"), "photoshare.wsgi"],
                log=web_log, env={**env, "GUNICORN_BIND": f"{HOST}:{port}"},
            )  # fmt: skip
            cleanup.callback(_stop, web)
            _wait(lambda url=url: _answers(f"{url}/"), web, f"gunicorn on {url}", web_log)
        yield Stack(web_urls=web_urls, sandbox_url=f"http://{HOST}:{sandbox_port}", database_url=database_url, env=env)


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt


def main() -> int:
    # SIGTERM ends in the same clean stop as Ctrl-C (the `with` block's exit).
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)
    try:
        with production_stack() as stack:
            print(f"web: {', '.join(stack.web_urls)}\nsandbox: {stack.sandbox_url}\ndatabase: {stack.database_url}", flush=True)
            print("Ctrl-C stops everything.", flush=True)
            signal.pause()
    except ProductionStackUnavailable as exc:
        print(f"Cannot start: {exc}.", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
