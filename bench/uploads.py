"""What sending photos straight to S3 saves, in one run:

1. the Django process's CPU time per uploaded MB when the browser uploads
   directly against the same files posted to a classic upload view.
   Django runs as a server of its own (`manage.py runserver`, one thread,
   settings `bench.uploads_server`), and this script is its client over
   HTTP, as a browser is. Both paths sign in once.
   - direct: POST /api/credentials once for the batch (the page caches them
     until they near expiry), then per file the PUT to S3 with the user's
     own credentials (the browser's work: it never reaches Django) and
     POST /api/photos, whose registration asks S3 what was stored.
   - through Django: per file, a multipart/form-data POST to the baseline
     view in `bench/uploads_urls.py`, which exists only in this benchmark.
     Django parses and spools the body, PUTs it to S3 with the server's
     credentials and writes the row from the bytes it holds.
   The server's CPU (`time.process_time`, every thread) is read from
   GET /bench/cpu/ before and after each file; what one such reading costs
   is measured and subtracted. The sandbox runs in a process of its own,
   so its work counts on neither side. Over plain HTTP botocore hashes the
   whole body to sign it, which over HTTPS (real S3) it skips; the baseline
   so pays about 2 ms/MB more here than it would on AWS.
2. the wall time of one 64 MB upload from a client on this machine:
   multipart, 8 MiB parts with four in flight (boto3's TransferConfig, as
   the page's uploader does it), against one PUT.

Bounded (N files, each at most MAX_PHOTO_BYTES), loopback only, prints
figures and asserts nothing about time. Goals: CPU ratio <= 0.02; multipart
/ single <= 0.6, which a loopback link may not show: with no network
latency or bandwidth limit to hide, four parts in flight mostly compete for
the same cores as the sandbox that receives them.

    .venv/bin/python bench/uploads.py [--files 5] [--megabytes 20] [--big 64]"""

from __future__ import annotations

import argparse
import io
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.django_setup import configure  # noqa: E402  (needs REPO on sys.path)
from sandbox.server import accepts, free_port  # noqa: E402

MIB = 1024 * 1024
BASELINE = "/bench/stream/"  # the baseline view's path, in bench/uploads_urls.py only
ROUNDS = 3  # timed repetitions of the 64 MB comparison; the median is printed
PNG_HEADER = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x0c\x08\x02\x00\x00\x00"


def photo_bytes(size: int) -> bytes:
    """A file the server takes for a PNG (its header sniffs as one), padded to `size`."""
    return PNG_HEADER + bytes(size - len(PNG_HEADER))


def process_start(args: list[str], port: int, *, log: Path, env: dict[str, str] | None = None) -> subprocess.Popen:
    """A server in a process of its own, its output in `log`; returned once it accepts on `port`."""
    with log.open("ab") as out:
        process = subprocess.Popen(args, cwd=REPO, stdout=out, stderr=subprocess.STDOUT, env=env)
    deadline = time.monotonic() + 30
    while not accepts(port):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise SystemExit(f"{' '.join(args[:4])} did not start; its output:\n{log.read_text()[-2000:]}")
        time.sleep(0.1)
    return process


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=5, help="files per path (default 5)")
    parser.add_argument("--megabytes", type=int, default=20, help="MB per file (default 20, a camera's photo)")
    parser.add_argument("--big", type=int, default=64, help="MB of the single-vs-multipart file (default 64)")
    args = parser.parse_args()
    if not 1 <= args.files <= 50 or args.megabytes < 1 or not 8 <= args.big <= 256:
        parser.error("--files from 1 to 50, --megabytes at least 1, --big from 8 to 256")

    started = time.perf_counter()
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="photoshare-bench-") as tmp:
        workdir = Path(tmp)
        sandbox = process_start([sys.executable, "-m", "sandbox", "--port", str(port)], port, log=workdir / "sandbox.log")
        try:
            configure(workdir, port)
            return _run(args, started, workdir)
        finally:
            stop(sandbox)


def _run(args: argparse.Namespace, started: float, workdir: Path) -> int:
    import os

    import requests
    from django.conf import settings
    from django.core.management import call_command

    from boto3.s3.transfer import TransferConfig
    from core.aws import aws_client, aws_client_as
    from infra.demo_users import demo_users_seed
    from infra.provision import deployment_provision
    from uploads.rules import MAX_PHOTO_BYTES, MULTIPART_PART_BYTES, key_prefixes

    size = args.megabytes * MIB
    if size > MAX_PHOTO_BYTES:
        raise SystemExit(f"--megabytes {args.megabytes} is over MAX_PHOTO_BYTES ({MAX_PHOTO_BYTES} bytes)")
    call_command("migrate", verbosity=0)
    deployment_provision(report=lambda line: None)
    demo_users_seed(report=lambda line: None)

    web_port = free_port()
    web = process_start(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{web_port}", "--noreload", "--nothreading"],
        web_port,
        log=workdir / "django.log",
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "bench.uploads_server"},
    )
    try:
        site = f"http://127.0.0.1:{web_port}"
        browser = requests.Session()
        browser.get(f"{site}/accounts/sign-in/", timeout=30)
        signed_in = browser.post(
            f"{site}/accounts/sign-in/",
            data={"email": "alice@example.com", "password": settings.DEMO_PASSWORD, "csrfmiddlewaretoken": browser.cookies["csrftoken"]},
            allow_redirects=False,
            timeout=30,
        )
        if signed_in.status_code != 302:
            raise SystemExit(f"alice could not sign in: {signed_in.status_code}")

        def post(route: str, **kwargs: object) -> requests.Response:
            return browser.post(f"{site}{route}", headers={"X-CSRFToken": browser.cookies["csrftoken"]}, timeout=120, **kwargs)

        def server_cpu() -> float:
            return browser.get(f"{site}/bench/cpu/", timeout=30).json()["cpu"]

        def server_cpu_of(path: Callable[[], object]) -> float:
            before = server_cpu()
            path()
            return server_cpu() - before

        body = photo_bytes(size)
        post("/api/credentials")  # warm-up: the session's first exchange with Cognito
        reading = statistics.median(server_cpu_of(lambda: None) for _ in range(20))  # what a pair of readings costs
        answers: list[dict] = []
        credentials_cpu = server_cpu_of(lambda: answers.append(post("/api/credentials").json())) - reading
        answer = answers[0]  # once for the batch, as the page does
        s3 = aws_client_as(
            "s3",
            access_key_id=answer["accessKeyId"],
            secret_access_key=answer["secretAccessKey"],
            session_token=answer["sessionToken"],
        )
        prefix = key_prefixes(identity_id=answer["identityId"])["private"]

        def direct() -> None:
            key = f"{prefix}{uuid.uuid4()}.png"
            s3.put_object(Bucket=settings.PHOTOSHARE_BUCKET, Key=key, Body=body, ContentType="image/png")  # the browser's work
            response = post("/api/photos", json={"key": key, "title": "direct"})
            if response.status_code != 201:
                raise SystemExit(f"registration answered {response.status_code}: {response.content[:200]!r}")

        def through_django() -> None:
            response = post(BASELINE, files={"photo": ("baseline.png", body, "image/png")})
            if response.status_code != 201:
                raise SystemExit(f"the baseline view answered {response.status_code}: {response.content[:200]!r}")

        direct(), through_django()  # warm-up: imports, connections
        cpu: dict[str, list[float]] = {"direct": [credentials_cpu], "through Django": []}
        for _ in range(args.files):  # alternate, so a busy machine weighs on both alike
            cpu["direct"].append(server_cpu_of(direct) - reading)
            cpu["through Django"].append(server_cpu_of(through_django) - reading)
    finally:
        stop(web)
    megabytes = args.files * size / MIB
    per_mb = {kind: max(sum(seconds), 0.0) / megabytes * 1000 for kind, seconds in cpu.items()}

    print(f"Django server CPU per uploaded MB, {args.files} files of {args.megabytes} MB each "
          f"(reading the server's CPU costs {reading * 1000:.2f} ms, subtracted)")
    for kind, ms in per_mb.items():
        print(f"{kind:>15}  {ms:8.3f} ms CPU/MB  ({ms * args.megabytes:7.2f} ms per file)")
    registration = statistics.median(cpu["direct"][1:]) * 1000
    print(f"  direct is {credentials_cpu * 1000:.2f} ms for the batch's credentials, then {registration:.2f} ms per file "
          f"(median) to register it, whatever its size")
    print(f"direct / through Django: {per_mb['direct'] / per_mb['through Django']:.4f} (goal <= 0.02)")

    # -- one big file: multipart with four parts in flight against one PUT
    big = photo_bytes(args.big * MIB)
    s3 = aws_client("s3")
    multipart = TransferConfig(
        multipart_threshold=MULTIPART_PART_BYTES, multipart_chunksize=MULTIPART_PART_BYTES, max_concurrency=4, use_threads=True
    )
    def single() -> float:
        start = time.perf_counter()
        s3.put_object(Bucket=settings.PHOTOSHARE_BUCKET, Key="bench/single.png", Body=big, ContentType="image/png")
        return time.perf_counter() - start

    def parts() -> float:
        start = time.perf_counter()
        s3.upload_fileobj(io.BytesIO(big), settings.PHOTOSHARE_BUCKET, "bench/multipart.png", Config=multipart)
        return time.perf_counter() - start

    single(), parts()  # warm-up
    times = {"single PUT": [], "multipart x4": []}
    for _ in range(ROUNDS):
        times["single PUT"].append(single())
        times["multipart x4"].append(parts())
    median = {kind: statistics.median(seconds) for kind, seconds in times.items()}
    print(f"one {args.big} MB upload from this machine, {MULTIPART_PART_BYTES // MIB} MiB parts, median of {ROUNDS}")
    for kind, seconds in median.items():
        print(f"{kind:>15}  {seconds:8.3f} s  ({args.big / seconds:7.1f} MB/s)")
    print(f"multipart / single: {median['multipart x4'] / median['single PUT']:.2f} (goal <= 0.6; loopback has no latency to hide)")
    print(f"(whole run {time.perf_counter() - started:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
