"""The sandbox's state as a documented, versioned JSON document: what
`python -m sandbox export` writes, `import` reads, and a data directory keeps
beside the pickle (`state.json`, written on every clean stop and at most
every 30 s while serving), so that a data directory written by one moto
version starts under another (`sandbox/persistence.py`).

The pickle (`state.bin`) names moto's classes and private attributes, and a
moto upgrade may rename any of them; this document names things as AWS does
and is rebuilt with the running moto's own constructors.

The document (one JSON object; every field below is required, and a field
not listed at the top level is refused):

    {
      "format": "photoshare-sandbox-state",
      "version": 1,
      "written_by": {"moto": "5.2.5", "python": "3.11"},     # informational
      "written_at": "2026-12-01T16:00:00+00:00",
      "account_id": "123456789012",
      "user_pools": [{                  # cognito-idp, one entry per pool
          "id", "region", "arn", "name", "status",
          "config": {...},              # CreateUserPool's settings (Policies, AutoVerifiedAttributes, ...)
          "schema": [{"name", "custom", "data_type", "developer_only", "mutable",
                      "required", "string_constraints", "number_constraints"}],
          "mfa": {"configuration", "sms", "software_token"},
          "created", "modified",        # ISO 8601
          "signing_key_pem",            # the pool's own RSA key (PKCS#8 PEM): tokens issued before still verify
          "clients": [{"id", "secret", "generate_secret", "config": {...}}],
          "identity_providers": [{"name", "config", "created", "modified"}],
          "groups": [{"name", "description", "role_arn", "precedence", "created", "modified"}],
          "users": [{"username", "sub", "password", "status", "enabled",
                     "attributes": [{"Name", "Value"}], "mfa": {...}, "confirmation_code",
                     "groups": [names], "created", "modified"}],
          "tokens": {"refresh": [[token, [client_id, username, origin_jti] | null]],
                     "access": [[token, [client_id, username]]], "id": [...]}
      }],
      "user_pool_codes": {              # the emailed codes (sandbox/cognito_idp/codes.py)
          "codes": [{"user_pool_id", "username", "kind", "code", "expires_at", "wrong"}],
          "outbox": [{"to", "subject", "body", "kind", "code", "user_pool_id", "sent_at"}]
      },
      "identity_pools": {               # sandbox/cognito_identity/models.py
          "pools": [{"id", "description": {...DescribeIdentityPool...}, "roles": {...}, "role_mappings": {...}}],
          "identities": [{"id", "pool_id", "logins": {provider: subject}, "created", "modified",
                          "developer_provider": name | null, "developer_users": [identifiers]}]
      },
      "iam": {
          "managed_policies": [{"arn", "name", "path", "id", "description", "aws_managed", "tags",
                                "default_version", "versions": [{"id", "document", "default", "created"}],
                                "created", "updated"}],
          "roles": [{"id", "name", "path", "trust_policy", "description", "max_session_duration",
                     "permissions_boundary", "tags", "linked_service", "created",
                     "inline_policies": {name: document}, "attached_policies": [arns]}],
          "users": [{"name", "id", "path", "created", "password", "inline_policies", "attached_policies",
                     "access_keys": [{"id", "secret", "status", "created"}]}],
          "oidc_providers": [{"url", "client_ids", "thumbprints", "tags", "created"}]   # optional: older documents lack it
      },
      "s3": {"buckets": [{
          "name", "region", "created", "versioning", "policy", "cors": [...], "lifecycle": [...],
          "public_access_block": {"blockPublicAcls", ...} | null, "encryption", "ownership", "tags": {...},
          "objects": [{"key", "versions": [            # oldest first; the last is current
              {"delete_marker": true, "version_id", "last_modified"}
            | {"delete_marker": false, "version_id", "versioned", "etag", "size", "last_modified",
               "storage_class", "metadata": {"Content-Type", "Cache-Control", "x-amz-meta-...": ...},
               "checksum": {"algorithm", "value", "type", "parts"},
               "encryption": {...}, "website_redirect_location", "tags": {...},
               "body": "<file name>"}
          ]}]
      }]},
      "dynamodb": {"tables": [{         # optional: older documents lack it
          "name", "region", "key_schema": [{"AttributeName", "KeyType"}],
          "attribute_definitions": [{"AttributeName", "AttributeType"}],
          "billing_mode", "throughput": {"ReadCapacityUnits", "WriteCapacityUnits"} | null,
          "local_indexes": [{"IndexName", "KeySchema", "Projection"}],
          "global_indexes": [{"IndexName", "KeySchema", "Projection", "ProvisionedThroughput"?}],
          "tags": [{"Key", "Value"}],
          "items": [{attribute name: AttributeValue, ...}]     # DynamoDB's JSON, as GetItem returns it
      }]}
    }

Bodies are never inline: `body` names a file in the bodies directory, which
for an export file FILE is `FILE.bodies/` and the name the body's SHA-256
(hex); in a data directory it is `objects/` and the name the data
directory's own. Identity IDs, role IDs, client IDs, secrets, version IDs
and ETags are kept as they were, so policies, tokens and clients that name
them keep working. Not kept (by design): issued STS credentials, which are
short-lived anyway; what `sandbox/moto_seams/state.py` lists.

The document holds every password, app client secret and pool signing key:
it is written 0600, and its bodies directory 0700.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from moto.s3.models import FakeKey

from sandbox import moto_seams
from sandbox.cognito_identity import models as cognito_identity
from sandbox.cognito_idp import codes as user_pool_codes

FORMAT = "photoshare-sandbox-state"
VERSION = 1
FIELDS = frozenset(
    {"format", "version", "written_by", "written_at", "account_id", "user_pools", "user_pool_codes", "identity_pools", "iam", "s3"}
)
OPTIONAL_FIELDS = frozenset({"dynamodb"})  # added after version 1 was first written: documents without it still load


class BadDocument(Exception):
    """Not a state document this sandbox can load; the message says why, for a person."""


# --- our own state (not moto's) -------------------------------------------------------


def _identity_pools() -> dict[str, Any]:
    saved = cognito_identity.STATE.snapshot()
    return {
        "pools": [
            {"id": p.id, "description": p.description, "roles": p.roles, "role_mappings": p.role_mappings}
            for p in saved["pools"].values()
        ],
        "identities": [
            {"id": i.id, "pool_id": i.pool_id, "logins": i.logins, "created": i.created, "modified": i.modified,
             "developer_provider": i.developer_provider, "developer_users": list(i.developer_users)}
            for i in saved["identities"].values()
        ],
    }


def _identity_pools_restore(saved: Mapping[str, Any]) -> None:
    pools = {
        p["id"]: cognito_identity.IdentityPool(
            id=p["id"], description=dict(p["description"]), roles=dict(p["roles"]), role_mappings=dict(p["role_mappings"])
        )
        for p in saved["pools"]
    }
    identities = {
        i["id"]: cognito_identity.Identity(
            id=i["id"], pool_id=i["pool_id"], logins=dict(i["logins"]), created=i["created"], modified=i["modified"],
            # Documents written before developer identities lack both fields.
            developer_provider=i.get("developer_provider"), developer_users=tuple(i.get("developer_users", ())),
        )
        for i in saved["identities"]
    }
    # The login links are derived: each identity's logins and developer users, in its pool.
    linked = {(i.pool_id, provider, subject): i.id for i in identities.values() for provider, subject in i.logins.items()}
    linked |= {(i.pool_id, i.developer_provider, user): i.id for i in identities.values() for user in i.developer_users}
    cognito_identity.STATE.restore({"pools": pools, "identities": identities, "linked": linked})


def _codes() -> dict[str, Any]:
    saved = user_pool_codes.STATE.snapshot()
    return {
        "codes": [
            {"user_pool_id": pool, "username": user, "kind": kind, "code": c.code, "expires_at": c.expires_at, "wrong": c.wrong}
            for (pool, user, kind), c in saved["codes"].items()
        ],
        "outbox": [
            {"to": m.to, "subject": m.subject, "body": m.body, "kind": m.kind, "code": m.code,
             "user_pool_id": m.user_pool_id, "sent_at": m.sent_at}
            for m in saved["outbox"]
        ],
    }


def _codes_restore(saved: Mapping[str, Any]) -> None:
    codes = {
        (c["user_pool_id"], c["username"], c["kind"]): user_pool_codes._Code(code=c["code"], expires_at=c["expires_at"], wrong=c["wrong"])
        for c in saved["codes"]
    }
    outbox = [user_pool_codes.Message(**m) for m in saved["outbox"]]
    user_pool_codes.STATE.restore({"codes": codes, "outbox": outbox})


# --- the document ------------------------------------------------------------------------


def document(*, body_name: Callable[[FakeKey], str]) -> dict[str, Any]:
    """The whole state as the document; the caller holds the gateway's lock
    (or runs alone). `body_name(key)` names each object version's body file."""
    state = moto_seams.state.moto_state(body_name=body_name)
    return {
        "format": FORMAT,
        "version": VERSION,
        "written_by": {"moto": moto_seams.persistence.MOTO_VERSION, "python": f"{sys.version_info.major}.{sys.version_info.minor}"},
        "written_at": dt.datetime.now(dt.timezone.utc).isoformat(),
        "account_id": moto_seams.ACCOUNT_ID,
        "user_pools": state["user_pools"],
        "user_pool_codes": _codes(),
        "identity_pools": _identity_pools(),
        "iam": state["iam"],
        "s3": state["s3"],
        "dynamodb": state["dynamodb"],
    }


def check(doc: Any, *, source: str) -> None:
    """Refuse what is not a version-1 document, naming the problem."""
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise BadDocument(f"{source} is not a sandbox state document (no \"format\": \"{FORMAT}\")")
    if doc.get("version") != VERSION:
        raise BadDocument(f"{source} has version {doc.get('version')!r}; this sandbox reads version {VERSION}")
    unknown, missing = sorted(doc.keys() - FIELDS - OPTIONAL_FIELDS), sorted(FIELDS - doc.keys())
    if unknown:
        raise BadDocument(f"{source} has fields this sandbox does not know: {', '.join(unknown)}")
    if missing:
        raise BadDocument(f"{source} lacks the fields {', '.join(missing)}")
    if doc["account_id"] != moto_seams.ACCOUNT_ID:
        raise BadDocument(f"{source} is for account {doc['account_id']!r}; this sandbox is account {moto_seams.ACCOUNT_ID}")


def restore(doc: dict[str, Any], *, source: str, body_path: Callable[[str, int], Path]) -> None:
    """Install a checked document into this process's (empty) state.
    `body_path(name, size)` is where each body is (checked, not read)."""
    check(doc, source=source)
    try:
        moto_seams.state.moto_state_restore(
            {"user_pools": doc["user_pools"], "iam": doc["iam"], "s3": doc["s3"], "dynamodb": doc.get("dynamodb", {"tables": []})},
            body_path=body_path,
        )
        _codes_restore(doc["user_pool_codes"])
        _identity_pools_restore(doc["identity_pools"])
    except BadDocument:
        raise
    except Exception as exc:  # a field missing or of the wrong kind deep inside, or moto refusing a value
        raise BadDocument(f"{source} is damaged ({type(exc).__name__}: {exc})") from exc


def summary(doc: Mapping[str, Any]) -> str:
    """One line of what a document holds."""
    pools = doc["user_pools"]
    buckets = doc["s3"]["buckets"]
    versions = [v for b in buckets for o in b["objects"] for v in o["versions"] if not v["delete_marker"]]
    stored = sum(v["size"] for v in versions)
    return (
        f"{len(pools)} user pools, {sum(len(p['users']) for p in pools)} users, "
        f"{len(doc['identity_pools']['identities'])} identities, {len(doc['iam']['roles'])} roles, "
        f"{len(buckets)} buckets, {sum(len(b['objects']) for b in buckets)} keys, {len(versions)} object versions "
        f"({stored / 1e6:.1f} MB)" + _tables_summary(doc)
    )


def _tables_summary(doc: Mapping[str, Any]) -> str:
    tables = doc.get("dynamodb", {"tables": []})["tables"]
    return f", {len(tables)} tables, {sum(len(t['items']) for t in tables)} items" if tables else ""
