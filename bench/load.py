"""Fifty people at once: N concurrent clients doing what a workshop does,
against `make run`'s own stack (scripts/run.py: runserver, SQLite, the
sandbox) or gunicorn on PostgreSQL (scripts/production_stack.py).

Each client is a person: a user of their own, made through the sandbox's
admin API (AdminCreateUser, confirmed, email verified), who signs in once
through the sign-in page (one session), then repeats an iteration:

    POST /api/credentials           the browser's scoped credentials
    PUT  S3 photo, PUT S3 thumbnail  straight to the sandbox with those credentials
    POST /api/photos                registration (the server's checks, the catalog row)
    GET  /                          the home page

Every client sends its own X-Forwarded-For address and the app is started
with TRUSTED_PROXY_COUNT=1, as behind a workshop's proxy: fifty people have
fifty addresses, and the per-address sign-in limit (30 a minute) is not what
is measured. Everything listens on 127.0.0.1; every client stops after
--iterations or at --duration, whichever comes first. Prints per-route
count, p50 and p95, and every error (a status outside 2xx/3xx, or an
exception) by route and status. It asserts nothing about time.

    .venv/bin/python bench/load.py [--clients 50] [--iterations 8] [--duration 300]
                                   [--stack make-run|gunicorn-postgres|all]"""

from __future__ import annotations

import argparse
import collections
import contextlib
import os
import re
import signal
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import requests  # noqa: E402

from tests.actors import user_create  # noqa: E402  (needs REPO on sys.path)
from tests.images import jpeg_bytes  # noqa: E402
from tests.sandbox_kit import SandboxKit, s3_from_answer  # noqa: E402
from tests.scripts.make_run import make_run_kill, make_run_start  # noqa: E402

MAX_CLIENTS = 200
MAX_ITERATIONS = 100
MAX_DURATION = 1800  # seconds
REQUEST_TIMEOUT = 60  # seconds per HTTP request; a slower answer is an error
PASSWORD = "Load-Bench-Password-1"
PHOTO = jpeg_bytes(64, 48)
THUMB = jpeg_bytes(16, 12)
ROUTES = (
    "GET /accounts/sign-in/",
    "POST /accounts/sign-in/",
    "POST /api/credentials",
    "PUT S3 photo",
    "PUT S3 thumbnail",
    "POST /api/photos",
    "GET /",
)
# A boto3 client is built through boto3's default session, which is not thread-safe.
_S3_CLIENT_LOCK = threading.Lock()


@dataclass
class Target:
    """Where the clients go: the app's URLs (clients are spread over them) and the sandbox."""

    name: str
    web_urls: list[str]
    sandbox_url: str
    log: Path | None = None  # the servers' output, searched for tracebacks when there were errors


@dataclass
class Results:
    samples: dict[str, list[float]] = field(default_factory=lambda: collections.defaultdict(list))  # seconds
    errors: collections.Counter = field(default_factory=collections.Counter)  # (route, status) -> count
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, route: str, seconds: float, status: str | None) -> None:
        with self.lock:
            self.samples[route].append(seconds)
            if status is not None:
                self.errors[(route, status)] += 1


class Failed(Exception):
    """A step failed (already recorded); the rest of the iteration depends on it."""


# --- one client -------------------------------------------------------------------------------

class Person:
    """One browser: a session on one web URL, and its own S3 signer."""

    def __init__(self, *, number: int, email: str, base_url: str, results: Results) -> None:
        self.email, self.base_url, self.results = email, base_url, results
        self.http = requests.Session()
        # 10.x.y.z, one per client, believed by the app through TRUSTED_PROXY_COUNT=1.
        self.http.headers["X-Forwarded-For"] = f"10.{number // 65536 % 256}.{number // 256 % 256}.{number % 256 or 1}"
        self.s3: Any = None
        self.s3_key_id = ""

    def _call(self, route: str, send: Callable[[], Any], ok: Callable[[Any], bool]) -> Any:
        start = time.perf_counter()
        try:
            answer = send()
        except Exception as exc:  # any failure is a result to count, not a reason to stop the run
            self.results.record(route, time.perf_counter() - start, type(exc).__name__)
            raise Failed(route) from exc
        status = getattr(answer, "status_code", None)
        self.results.record(route, time.perf_counter() - start, None if ok(answer) else str(status))
        if not ok(answer):
            raise Failed(route)
        return answer

    def _web(self, method: str, path: str, *, expect: tuple[int, ...] = (), **kwargs: Any) -> requests.Response:
        def ok(response: requests.Response) -> bool:
            return response.status_code in expect if expect else 200 <= response.status_code < 400

        headers = {"X-CSRFToken": self.http.cookies.get("csrftoken", "")} if method != "GET" else {}
        return self._call(
            f"{method} {path}",
            lambda: self.http.request(
                method, f"{self.base_url}{path}", headers=headers, timeout=REQUEST_TIMEOUT, allow_redirects=False, **kwargs
            ),
            ok,
        )

    def sign_in(self) -> None:
        self._web("GET", "/accounts/sign-in/")
        token = self.http.cookies.get("csrftoken", "")
        # A 302 is the only success: a 400 or 429 sign-in page is a refusal.
        self._web(
            "POST",
            "/accounts/sign-in/",
            expect=(302,),
            data={"email": self.email, "password": PASSWORD, "csrfmiddlewaretoken": token},
        )

    def iterate(self) -> None:
        answer = self._web("POST", "/api/credentials", expect=(200,)).json()
        if answer["accessKeyId"] != self.s3_key_id:  # reused from the session for most of an hour
            with _S3_CLIENT_LOCK:
                self.s3 = s3_from_answer(answer)
            self.s3_key_id = answer["accessKeyId"]
        name = uuid.uuid4()
        key = f"private/{answer['identityId']}/{name}.jpg"
        thumb_key = f"private/{answer['identityId']}/thumbs/{name}.jpg"
        for route, object_key, body in (("PUT S3 photo", key, PHOTO), ("PUT S3 thumbnail", thumb_key, THUMB)):
            self._call(
                route,
                lambda object_key=object_key, body=body: self.s3.put_object(
                    Bucket=answer["bucket"], Key=object_key, Body=body, ContentType="image/jpeg"
                ),
                lambda _: True,  # botocore raises for any refusal
            )
        self._web("POST", "/api/photos", expect=(201,), json={"key": key, "thumbKey": thumb_key, "title": "load"})
        self._web("GET", "/", expect=(200,))


def _client_run(person: Person, *, iterations: int, deadline: float, start: threading.Barrier) -> None:
    start.wait()
    try:
        person.sign_in()
    except Failed:
        return
    for _ in range(iterations):
        if time.monotonic() >= deadline:
            return
        with contextlib.suppress(Failed):
            person.iterate()


# --- the stacks ---------------------------------------------------------------------------------

@contextlib.contextmanager
def make_run_stack(workdir: Path, log_path: Path) -> Iterator[Target]:
    """scripts/run.py, what `make run` runs, on free ports with this run's own var directory;
    stopped by its PID with SIGTERM, as the real one may be. Its output goes to `log_path`."""
    with log_path.open("wb") as log:
        run = make_run_start(var_dir=workdir / "var", output=log, environment={"TRUSTED_PROXY_COUNT": "1"})
        try:
            yield Target("make run (runserver, SQLite)", [run.url], run.sandbox_url, log_path)
        finally:
            run.process.send_signal(signal.SIGTERM)
            try:
                run.process.wait(timeout=30)
            finally:
                make_run_kill(run)


@contextlib.contextmanager
def gunicorn_postgres_stack() -> Iterator[Target | str]:
    """scripts/production_stack.py's two gunicorn processes on one PostgreSQL;
    yields why not (a str) when there is none to be had here."""
    try:
        from scripts.production_stack import ProductionStackUnavailable, production_stack
    except ImportError as exc:
        yield f"scripts/production_stack.py is not importable ({exc})"
        return
    # The stack's processes read their settings from this environment.
    os.environ["TRUSTED_PROXY_COUNT"] = "1"
    with contextlib.ExitStack() as running:
        try:
            stack = running.enter_context(production_stack())
        except ProductionStackUnavailable as exc:  # only starting it may say so
            yield str(exc)
            return
        yield Target("gunicorn + PostgreSQL", list(stack.web_urls), stack.sandbox_url)


def _users_make(sandbox_url: str, count: int) -> list[str]:
    """`count` confirmed users in the deployment's user pool (the only `*-users` pool of this sandbox)."""
    kit = SandboxKit(endpoint=sandbox_url)
    pools = [pool for pool in kit.client("cognito-idp").list_user_pools(MaxResults=60)["UserPools"] if pool["Name"].endswith("-users")]
    if len(pools) != 1:
        raise SystemExit(f"expected one *-users pool in the sandbox at {sandbox_url}, found {[p['Name'] for p in pools]}")
    run = uuid.uuid4().hex[:6]
    return [
        user_create(kit, user_pool_id=pools[0]["Id"], email=f"load-{run}-{n}@example.com", password=PASSWORD) for n in range(count)
    ]


# --- running and reporting ----------------------------------------------------------------------

def percentile(samples: list[float], fraction: float) -> float:
    """Nearest-rank percentile of `samples`."""
    ordered = sorted(samples)
    return ordered[max(0, min(len(ordered) - 1, round(fraction * len(ordered) + 0.5) - 1))]


def load_run(target: Target, *, clients: int, iterations: int, duration: float) -> Results:
    emails = _users_make(target.sandbox_url, clients)
    results = Results()
    people = [
        Person(number=n + 1, email=email, base_url=target.web_urls[n % len(target.web_urls)], results=results)
        for n, email in enumerate(emails)
    ]
    start = threading.Barrier(clients + 1)
    deadline = time.monotonic() + duration
    threads = [
        threading.Thread(target=_client_run, args=(person,), kwargs={"iterations": iterations, "deadline": deadline, "start": start})
        for person in people
    ]
    for thread in threads:
        thread.start()
    started = time.perf_counter()
    start.wait()
    for thread in threads:  # each stops by itself: bounded iterations, the deadline, request timeouts
        thread.join(timeout=max(1.0, deadline - time.monotonic()) + 2 * REQUEST_TIMEOUT)
    wall = time.perf_counter() - started
    _report(target, results, clients=clients, iterations=iterations, wall=wall)
    return results


def _report(target: Target, results: Results, *, clients: int, iterations: int, wall: float) -> None:
    total = sum(len(s) for s in results.samples.values())
    errors = sum(results.errors.values())
    print(f"\n{target.name}: {clients} clients x {iterations} iterations, web {', '.join(target.web_urls)}, sandbox {target.sandbox_url}")
    print(f"{total} requests in {wall:.1f} s ({total / wall:.1f}/s), {errors} errors")
    print(f"{'route':<24} {'count':>6} {'p50 ms':>8} {'p95 ms':>8} {'errors':>7}")
    for route in ROUTES:
        samples = results.samples.get(route, [])
        if not samples:
            continue
        failed = sum(n for (r, _), n in results.errors.items() if r == route)
        median, p95 = statistics.median(samples) * 1000, percentile(samples, 0.95) * 1000
        print(f"{route:<24} {len(samples):>6} {median:>8.1f} {p95:>8.1f} {failed:>7}")
    for (route, status), count in sorted(results.errors.items()):
        print(f"  error: {route} -> {status} x{count}")
    if errors and target.log is not None and target.log.exists():
        _server_errors(target.log)


def _server_errors(log: Path) -> None:
    """The distinct exception lines of the servers' output, the cause of a 500."""
    found = collections.Counter(
        line.strip() for line in log.read_text(errors="replace").splitlines() if re.match(r"^\w+(\.\w+)*(Error|Exception|Interrupted)\b", line.strip())
    )
    for line, count in found.most_common(10):
        print(f"  server: {line[:200]} x{count}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50, help=f"concurrent clients (default 50, at most {MAX_CLIENTS})")
    parser.add_argument("--iterations", type=int, default=8, help=f"iterations per client (default 8, at most {MAX_ITERATIONS})")
    parser.add_argument("--duration", type=float, default=300, help=f"seconds at most, whatever is left (default 300, at most {MAX_DURATION})")
    parser.add_argument("--stack", choices=("make-run", "gunicorn-postgres", "all"), default="make-run")
    parser.add_argument("--server-log", type=Path, help="keep make run's output in this file (default: a temporary one)")
    args = parser.parse_args()
    if not 1 <= args.clients <= MAX_CLIENTS or not 1 <= args.iterations <= MAX_ITERATIONS or not 1 <= args.duration <= MAX_DURATION:
        parser.error(f"--clients 1..{MAX_CLIENTS}, --iterations 1..{MAX_ITERATIONS}, --duration 1..{MAX_DURATION}")

    errors = 0
    with tempfile.TemporaryDirectory(prefix="photoshare-load-") as tmp:
        if args.stack in ("make-run", "all"):
            with make_run_stack(Path(tmp), args.server_log or Path(tmp) / "make-run.log") as target:
                errors += sum(load_run(target, clients=args.clients, iterations=args.iterations, duration=args.duration).errors.values())
        if args.stack in ("gunicorn-postgres", "all"):
            with gunicorn_postgres_stack() as target:
                if isinstance(target, str):
                    print(f"\ngunicorn + PostgreSQL: skipped, {target}")
                else:
                    errors += sum(load_run(target, clients=args.clients, iterations=args.iterations, duration=args.duration).errors.values())
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
