"""`POST /_sandbox/faults`: make the next N matching requests fail as AWS
would, so a test can watch a client recover (one `UploadPart` answered 500
`InternalError`, a `PutObject` answered `ExpiredToken`).

    POST /_sandbox/faults  {"operation": "UploadPart", "count": 1, "status": 500}
    POST /_sandbox/faults  {"operation": "PutObject", "code": "ExpiredToken"}
    GET  /_sandbox/faults  the faults still armed
    DELETE /_sandbox/faults  disarm them all

`code` alone takes its status (and message) from the table below; `status`
alone takes its usual code (500 InternalError, 503 SlowDown). A fault fires
only on a request that was authenticated and authorized, in place of the
answer moto would have given, and the request changes nothing. S3 retries
with backoff on exactly these errors:
https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html

Sandbox-only, like the outbox: it lets anyone make any user's requests
fail, so it answers loopback clients only.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from sandbox.errors import AwsError, send
from sandbox.gateway.request import Request
from sandbox.s3.actions import split_path

FAULTS_PATH = "/_sandbox/faults"
MAX_COUNT = 1000  # requests one fault may fail; a bound, not a feature

# code -> (status, message) as S3 sends them.
_KNOWN = {
    "InternalError": (500, "We encountered an internal error. Please try again."),
    "ServiceUnavailable": (503, "Please reduce your request rate."),
    "SlowDown": (503, "Please reduce your request rate."),
    "RequestTimeout": (400, "Your socket connection to the server was not read from or written to within the timeout period."),
    "ExpiredToken": (400, "The provided token has expired."),
    "InvalidToken": (400, "The provided token is malformed or otherwise invalid."),
}
_BY_STATUS = {500: "InternalError", 503: "SlowDown"}


@dataclass
class Fault:
    operation: str  # "UploadPart", or a JSON/Query service's own operation name
    remaining: int
    code: str
    status: int
    message: str


class Faults:
    """The armed faults, in the order they were armed; thread-safe."""

    def __init__(self) -> None:
        self._armed: list[Fault] = []
        self._lock = threading.Lock()

    def arm(self, fault: Fault) -> None:
        with self._lock:
            self._armed.append(fault)

    def clear(self) -> None:
        with self._lock:
            self._armed.clear()

    def listed(self) -> list[dict[str, Any]]:
        with self._lock:
            return [asdict(f) for f in self._armed]

    def take(self, request: Request) -> AwsError | None:
        """The error `request` must get instead of its answer, if a fault matches (it counts down)."""
        operation = operation_name(request)
        if operation is None:
            return None
        with self._lock:
            for fault in self._armed:
                if fault.operation == operation:
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._armed.remove(fault)
                    return AwsError(fault.code, fault.message, fault.status)
        return None


def operation_name(request: Request) -> str | None:
    """The API operation a classified request is: the JSON and Query
    services name it; an S3 REST request is named from its method, path and
    sub-resource (only the operations a client uploads and reads with)."""
    if request.service != "s3":
        return request.operation or None
    bucket, key = split_path(request.raw_path)
    query = request.query_dict
    method = request.method
    if bucket is None:
        return "ListBuckets" if method == "GET" else None
    if key is None:
        if method == "GET" and "uploads" in query:
            return "ListMultipartUploads"
        if method == "GET" and "versions" in query:
            return "ListObjectVersions"
        if method == "GET" and not query.keys() - {"list-type", "prefix", "delimiter", "max-keys", "continuation-token", "marker"}:
            return "ListObjectsV2" if query.get("list-type") == "2" else "ListObjects"
        if method == "POST" and "delete" in query:
            return "DeleteObjects"
        return None
    copy = "x-amz-copy-source" in request.headers
    if "uploadId" in query:
        if method == "PUT" and "partNumber" in query:
            return "UploadPartCopy" if copy else "UploadPart"
        return {"POST": "CompleteMultipartUpload", "DELETE": "AbortMultipartUpload", "GET": "ListParts"}.get(method)
    if method == "POST" and "uploads" in query:
        return "CreateMultipartUpload"
    if query.keys() - {"versionId", "partNumber"}:
        return None  # another sub-resource (?tagging, ?acl, ...)
    return {
        "PUT": "CopyObject" if copy else "PutObject",
        "GET": "GetObject",
        "HEAD": "HeadObject",
        "DELETE": "DeleteObject",
    }.get(method)


def fault_parse(body: bytes) -> Fault:
    """A fault from the JSON a test posted, or ValueError saying what is wrong."""
    try:
        data = json.loads(body or b"{}")
    except ValueError:
        raise ValueError("The body must be JSON.") from None
    if not isinstance(data, dict):
        raise ValueError("The body must be a JSON object.")
    operation = data.get("operation")
    count = data.get("count", 1)
    code = data.get("code")
    status = data.get("status")
    if not isinstance(operation, str) or not operation.isalnum():
        raise ValueError('"operation" must name an operation, e.g. "UploadPart".')
    if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= MAX_COUNT:
        raise ValueError(f'"count" must be a whole number from 1 to {MAX_COUNT}.')
    if status is not None and (not isinstance(status, int) or isinstance(status, bool) or not 400 <= status <= 599):
        raise ValueError('"status" must be an HTTP error status (400 to 599).')
    if code is None:
        code = _BY_STATUS.get(status or 500)
        if code is None:
            raise ValueError(f'A status of {status} needs a "code" too.')
    if not isinstance(code, str) or not code.isalnum():
        raise ValueError('"code" must be an error code, e.g. "InternalError".')
    known_status, message = _KNOWN.get(code, (None, data.get("message") or "Injected by the sandbox."))
    status = status or known_status
    if status is None:
        raise ValueError(f'The code {code} needs a "status" too.')
    return Fault(operation=operation, remaining=count, code=code, status=status, message=str(message))


def faults_answer(
    faults: Faults, request: Request, environ: Mapping[str, Any], start_response: Callable[..., Any]
) -> list[bytes]:
    if not _loopback(environ.get("REMOTE_ADDR", "")) or request.method not in ("GET", "POST", "DELETE"):
        return send(start_response, AwsError("AccessDenied", "Access Denied", 403), request.service, head=request.method == "HEAD")
    if request.method == "POST":
        try:
            faults.arm(fault_parse(request.body))
        except ValueError as exc:
            return _json(start_response, "400 Bad Request", {"error": str(exc)})
    elif request.method == "DELETE":
        faults.clear()
    return _json(start_response, "200 OK", {"faults": faults.listed()})


def _loopback(address: str) -> bool:
    return address.startswith("127.") or address == "::1"


def _json(start_response: Callable[..., Any], line: str, data: dict[str, Any]) -> list[bytes]:
    body = json.dumps(data).encode()
    start_response(line, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]
