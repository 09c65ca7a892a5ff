"""`GET /_sandbox/outbox`: the messages Cognito would have emailed (sign-up
and password-reset codes), newest first, optionally `?to=<address>`.

Sandbox-only, so a local sign-up can finish without email. It hands out
codes that act for any local user, so it answers loopback clients only.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from sandbox.cognito_idp import codes
from sandbox.errors import AwsError, send
from sandbox.gateway.request import Request

OUTBOX_PATH = "/_sandbox/outbox"


def outbox_answer(request: Request, environ: Mapping[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    if request.method != "GET" or not environ.get("REMOTE_ADDR", "").startswith("127."):
        return send(start_response, AwsError("AccessDenied", "Access Denied", 403), request.service, head=request.method == "HEAD")
    body = json.dumps({"messages": codes.outbox(to=request.query_dict.get("to"))}).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]
