"""Every place the sandbox touches moto's internals, one module per moto
service, and nowhere else: a moto upgrade touches this package only.

moto is the base we build on (user pools, STS, IAM, S3), but its public surface
is HTTP; our layer needs a few things HTTP cannot give it: the user pool's
signing keys and sign-out state, a DynamoDB table's key schema, credentials minted through STS for a role,
the role and user policies to evaluate, a bucket's CORS rules, policy and
Block Public Access settings, and its state to persist.

- `core`: moto's per-service WSGI apps and request handler; no blanket CORS;
- `cognitoidp`: user pools that sign, publish keys and check SECRET_HASH as AWS's do;
- `iam`: role and user policies, IAM users' keys, OpenID Connect providers (http only on loopback);
- `sts`: minting role sessions, finding the ones moto minted;
- `s3`: a bucket's CORS rules, policy and Block Public Access settings (its own policy check off), an object's
  tags, checksums returned as S3 returns them;
- `dynamodb`: a table's key schema, for `dynamodb:LeadingKeys`;
- `persistence`: pickling moto's backends; restored objects' bodies left on disk until read;
- `state`: moto's state as plain data, for the versioned JSON form (`sandbox/state_export.py`).

Importing this package changes nothing in moto or in the environment; the
patches are applied by `install()`, which the server calls once at start-up.
"""

from __future__ import annotations

import threading

from sandbox.moto_seams import cognitoidp, core, dynamodb, iam, persistence, s3, state, sts
from sandbox.moto_seams.core import ACCOUNT_ID, PARTITION

__all__ = ["ACCOUNT_ID", "PARTITION", "cognitoidp", "core", "dynamodb", "iam", "install", "persistence", "s3", "state", "sts"]

_installed = False
_lock = threading.Lock()


def install() -> None:
    """Patch moto where the sandbox needs it to behave as AWS does. Idempotent:
    tests start several sandboxes in one process, and moto is process-wide."""
    global _installed
    with _lock:
        if _installed:
            return
        core.install()
        cognitoidp.install()
        iam.install()
        s3.install()
        persistence.install()
        _installed = True
