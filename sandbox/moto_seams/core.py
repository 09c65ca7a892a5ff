"""moto's server: its per-service WSGI apps and its request handler.

The gateway already knows which service a request is for, so it calls that
service's app directly and skips moto's host-guessing dispatcher (a third of
a request's time). moto would also answer every request with
`Access-Control-Allow-Origin: *`, which hides a missing bucket CORS rule (the
classic "works locally, fails on AWS"); `install()` turns that off.
"""

from __future__ import annotations

from typing import Any

import moto.settings
from moto.core import DEFAULT_ACCOUNT_ID
from moto.moto_server import werkzeug_app
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app

ACCOUNT_ID = DEFAULT_ACCOUNT_ID
PARTITION = "aws"

# moto's backend module per service the gateway forwards to.
_BACKENDS = {"s3": "s3", "iam": "iam", "sts": "sts", "cognito-idp": "cognitoidp", "dynamodb": "dynamodb"}

# moto's handler keeps S3 metadata headers whose names contain underscores,
# recording their spelling under this environ key (the gateway carries it over).
RequestHandler = MotoRequestHandler
PRESERVED_HEADER_NAMES = "moto.preserved_header_names"


class MotoApps:
    """moto's per-service Flask apps, each built on its first request."""

    def __init__(self) -> None:
        self._dispatcher = DomainDispatcherApplication(create_backend_app)

    def app_for(self, service: str) -> Any:
        backend = _BACKENDS[service]
        with self._dispatcher.lock:
            app = self._dispatcher.app_instances.get(backend)
            if app is None:
                app = self._dispatcher.app_instances[backend] = create_backend_app(backend)
            return app


def install() -> None:
    """No blanket CORS: only a bucket's own rules may allow an origin. moto
    reads the setting when it builds an app, so this must run before the
    first request. It sets the value moto read from `MOTO_DISABLE_GLOBAL_CORS`
    rather than the environment variable, which moto reads once, at import."""
    moto.settings.DISABLE_GLOBAL_CORS = True
    werkzeug_app.DISABLE_GLOBAL_CORS = True
