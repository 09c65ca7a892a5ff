"""moto is patched by an explicit `install()` at start-up, never by importing
the sandbox: importing changes neither moto nor the environment, and a
second `install()` (tests start several sandboxes in one process) changes
nothing more. Each case runs in a fresh interpreter, since this test
process has long installed the seams."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

_PROBE = """
import json, os, sys
before = dict(os.environ)
import sandbox.server, sandbox.gateway, sandbox.persistence
from moto.cognitoidp.models import CognitoIdpUserPool
from moto.cognitoidp.responses import CognitoIdpResponse
from moto.moto_server import werkzeug_app
from moto.s3 import models as s3_models
from moto.s3.responses import S3Response
def state():
    return {
        "pool_init": CognitoIdpUserPool.__init__.__module__,
        "sign_up": CognitoIdpResponse.sign_up.__qualname__,
        "global_cors_off": werkzeug_app.DISABLE_GLOBAL_CORS,
        "s3_checksum": (s3_models.compute_checksum.__module__, hasattr(S3Response.head_object, "__wrapped__")),
        "environment_changed": sorted(k for k in os.environ if os.environ.get(k) != before.get(k)),
    }
imported = state()
from sandbox import moto_seams
moto_seams.install()
once = state()
moto_seams.install()
print(json.dumps({"imported": imported, "once": once, "twice": state()}))
"""


def _probe() -> dict:
    done = subprocess.run([sys.executable, "-c", _PROBE], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_import_patches_nothing_and_install_patches_once():
    """Import leaves moto and os.environ alone; install() patches; a second install() changes nothing."""
    states = _probe()
    assert states["imported"] == {
        "pool_init": "moto.cognitoidp.models",
        "sign_up": "CognitoIdpResponse.sign_up",
        "global_cors_off": False,
        "s3_checksum": ["moto.s3.utils", False],
        "environment_changed": [],
    }
    assert states["once"] == {
        "pool_init": "sandbox.moto_seams.cognitoidp",
        "sign_up": "_requiring_secret_hash.<locals>.checked",
        "global_cors_off": True,
        "s3_checksum": ["sandbox.moto_seams.s3", True],
        "environment_changed": [],
    }
    assert states["twice"] == states["once"]
