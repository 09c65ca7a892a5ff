"""What sending photos straight to S3 saves, in one run:

1. the Django process's CPU time per uploaded MB when the browser uploads
   directly (POST /api/credentials, the PUT to S3 made as the browser makes
   it, with the user's own credentials, POST /api/photos) against the same
   files posted to a Django view that streams them to S3 and registers them.
   That view is a baseline that exists only in this script (its own
   urlconf); the app has no such route. Only the Django side is timed: the
   direct PUT is the browser's work, so it runs outside the CPU clock, and
   the multipart bodies posted to the baseline are built before it starts.
   CPU time is the whole process's (`time.process_time`, so boto3's transfer
   threads in the baseline count); the sandbox runs in a process of its
   own, so its work counts on neither side.
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
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.django_setup import configure  # noqa: E402  (needs REPO on sys.path)
from sandbox.server import accepts, free_port  # noqa: E402

MIB = 1024 * 1024
BASELINE = "/bench/stream/"  # the baseline view's path, in this script's urlconf only
FORM_BOUNDARY = "photoshare-bench-boundary"
ROUNDS = 3  # timed repetitions of the 64 MB comparison; the median is printed
PNG_HEADER = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x0c\x08\x02\x00\x00\x00"


def photo_bytes(size: int) -> bytes:
    """A file the server takes for a PNG (its header sniffs as one), padded to `size`."""
    return PNG_HEADER + bytes(size - len(PNG_HEADER))


def sandbox_start(port: int) -> subprocess.Popen:
    """The sandbox in a process of its own, so its CPU is not the Django process's."""
    process = subprocess.Popen([sys.executable, "-m", "sandbox", "--port", str(port)], cwd=REPO)
    deadline = time.monotonic() + 30
    while not accepts(port):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise SystemExit("the sandbox did not start")
        time.sleep(0.1)
    return process


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
    sandbox = sandbox_start(port)
    try:
        with tempfile.TemporaryDirectory(prefix="photoshare-bench-") as tmp:
            configure(Path(tmp), port)
            return _run(args, started)
    finally:
        sandbox.terminate()
        sandbox.wait(timeout=10)


def _run(args: argparse.Namespace, started: float) -> int:
    from django.conf import settings
    from django.core.management import call_command
    from django.http import HttpRequest, JsonResponse
    from django.test import Client, override_settings
    from django.test.client import encode_multipart
    from django.urls import include, path

    from boto3.s3.transfer import TransferConfig
    from core.aws import aws_client, aws_client_as
    from infra.demo_users import demo_users_seed
    from infra.provision import deployment_provision
    from uploads.rules import MAX_PHOTO_BYTES, MULTIPART_PART_BYTES, key_prefixes
    from uploads.services import photo_register

    size = args.megabytes * MIB
    if size > MAX_PHOTO_BYTES:
        raise SystemExit(f"--megabytes {args.megabytes} is over MAX_PHOTO_BYTES ({MAX_PHOTO_BYTES} bytes)")
    call_command("migrate", verbosity=0)
    deployment_provision(report=lambda line: None)
    demo_users_seed(report=lambda line: None)

    def stream_to_s3(request: HttpRequest) -> JsonResponse:
        """The baseline: the photo comes to Django, which sends it on to S3 and registers it."""
        upload = request.FILES["photo"]
        prefix = key_prefixes(identity_id=request.user.identity_id)["private"]
        key = f"{prefix}{uuid.uuid4()}.png"
        aws_client("s3").upload_fileobj(upload, settings.PHOTOSHARE_BUCKET, key, ExtraArgs={"ContentType": "image/png"})
        photo = photo_register(user=request.user, key=key, title=upload.name)
        return JsonResponse({"id": str(photo.pk)}, status=201)

    class BenchUrls:  # the app's routes plus the baseline, for this run only
        urlpatterns = [path("bench/stream/", stream_to_s3), path("", include(settings.ROOT_URLCONF))]

    client = Client()
    signed_in = client.post("/accounts/sign-in/", {"email": "alice@example.com", "password": settings.DEMO_PASSWORD})
    if signed_in.status_code != 302:
        raise SystemExit(f"alice could not sign in: {signed_in.status_code}")
    body = photo_bytes(size)

    def direct() -> float:
        """One upload the browser's way; the Django CPU seconds it took."""
        cpu = time.process_time()
        answer = client.post("/api/credentials").json()
        cpu = time.process_time() - cpu
        s3 = aws_client_as(
            "s3",
            access_key_id=answer["accessKeyId"],
            secret_access_key=answer["secretAccessKey"],
            session_token=answer["sessionToken"],
        )
        key = f"{key_prefixes(identity_id=answer['identityId'])['private']}{uuid.uuid4()}.png"
        s3.put_object(Bucket=settings.PHOTOSHARE_BUCKET, Key=key, Body=body, ContentType="image/png")  # the browser's work
        registering = time.process_time()
        response = client.post("/api/photos", {"key": key, "title": "direct"}, content_type="application/json")
        cpu += time.process_time() - registering
        if response.status_code != 201:
            raise SystemExit(f"registration answered {response.status_code}: {response.content[:200]!r}")
        return cpu

    # Built outside the clock; a boundary of its own, so the test client sends the bytes as they are.
    form = encode_multipart(FORM_BOUNDARY, {"photo": _named(body, "baseline.png")})

    def through_django() -> float:
        with override_settings(ROOT_URLCONF=BenchUrls):
            cpu = time.process_time()
            response = client.post(BASELINE, form, content_type=f"multipart/form-data; boundary={FORM_BOUNDARY}")
            cpu = time.process_time() - cpu
        if response.status_code != 201:
            raise SystemExit(f"the baseline view answered {response.status_code}: {response.content[:200]!r}")
        return cpu

    direct(), through_django()  # warm-up: imports, clients, the session's credentials
    cpu = {"direct": [], "through Django": []}
    for _ in range(args.files):  # alternate, so a busy machine weighs on both alike
        cpu["direct"].append(direct())
        cpu["through Django"].append(through_django())
    megabytes = args.files * size / MIB
    per_mb = {kind: sum(seconds) / megabytes * 1000 for kind, seconds in cpu.items()}

    print(f"Django CPU per uploaded MB, {args.files} files of {args.megabytes} MB each, sandbox on 127.0.0.1:{settings.SANDBOX_PORT}")
    for kind, ms in per_mb.items():
        print(f"{kind:>15}  {ms:8.3f} ms CPU/MB")
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


def _named(data: bytes, name: str) -> io.BytesIO:
    """A file object the test client posts as a file field named `name`."""
    file = io.BytesIO(data)
    file.name = name
    return file


if __name__ == "__main__":
    sys.exit(main())
