"""Serving the gateway: in the foreground (`python -m sandbox`) or in a
background thread for tests (`running()`)."""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass

from werkzeug.serving import BaseWSGIServer, make_server

from sandbox import moto_seams
from sandbox.gateway import Gateway

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 4566
REGION = "us-east-1"
ACCOUNT_ID = moto_seams.ACCOUNT_ID
ONE_HOUR = 3600  # seconds; enhanced-flow credentials always last one hour on AWS


class RequestHandler(moto_seams.RequestHandler):
    # HTTP/1.1 keeps connections open between requests, as AWS endpoints do;
    # the gateway always reads the whole request body, so none is left behind.
    protocol_version = "HTTP/1.1"


@dataclass(frozen=True)
class Sandbox:
    host: str
    port: int
    region: str = REGION
    account_id: str = ACCOUNT_ID

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}:{self.port}"


def make(*, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, credentials_ttl: int = ONE_HOUR,
         admin_access_key_id: str = "test", admin_secret_access_key: str = "test") -> BaseWSGIServer:
    """A threaded WSGI server for the gateway, bound but not yet serving.
    `credentials_ttl` (seconds) is a sandbox-only knob for expiry tests."""
    if credentials_ttl < 1:
        raise ValueError("credentials_ttl must be at least one second")
    # werkzeug logs every request at INFO; the gateway logs what matters.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    app = Gateway(
        credentials_ttl=credentials_ttl,
        admin_access_key_id=admin_access_key_id,
        admin_secret_access_key=admin_secret_access_key,
        default_region=REGION,
    )
    return make_server(host, port, app, threaded=True, request_handler=RequestHandler)


def free_port(host: str = DEFAULT_HOST) -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def running(*, host: str = DEFAULT_HOST, port: int = 0, credentials_ttl: int = ONE_HOUR) -> Iterator[Sandbox]:
    """Run a sandbox in a background thread for the duration of the block.

    Port 0 picks a free one. moto's backends are process-wide, so every
    sandbox in one process sees the same AWS account."""
    server = make(host=host, port=port, credentials_ttl=credentials_ttl)
    thread = threading.Thread(target=server.serve_forever, name="sandbox", daemon=True)
    thread.start()
    try:
        yield Sandbox(host=host, port=server.server_port)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
