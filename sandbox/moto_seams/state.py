"""moto's state as plain data (dicts, lists, strings, numbers), and back.

This is what lets a data directory outlive a moto upgrade: the pickle in
`state.bin` names moto's classes and their private attributes, which a new
moto may rename; this module reads each object into fields that say what
they are in AWS's terms (`sandbox/state_export.py` documents them) and builds
a new moto's objects from them with that moto's own constructors, so
whatever a new version adds gets its default. It is the only module that
knows both shapes; a moto upgrade that breaks it breaks `tests/sandbox/
test_state_export.py` too.

Rebuilding assumes empty backends (a fresh process). Kept: user pools (their
configuration, schema, MFA settings, app clients with secrets, groups, users
with attributes, status, passwords and group membership, issued tokens, the
pool's own signing key), IAM roles, customer managed policies (every
version), users with inline and attached policies and access keys, OpenID
Connect providers (URL with its scheme, client IDs, thumbprints), and S3
buckets (versioning, policy, CORS, lifecycle, Block Public Access, default
encryption, ownership, tags) with every object version and delete marker
(metadata, checksum, tags, version IDs), and DynamoDB tables (key schema,
attribute definitions, billing mode, throughput, local and global secondary
indexes, tags) with every item. Not kept: DynamoDB streams, TTL settings,
backups and table creation times; multipart uploads in
progress, the parts of completed ones (`GetObject?partNumber=`), IAM groups,
instance profiles, user-pool domains and resource servers, S3 ACLs other
than the default, notifications, website and object-lock configuration.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable
from pathlib import Path
from typing import Any

from moto.cognitoidp.models import (
    CognitoIdpGroup,
    CognitoIdpIdentityProvider,
    CognitoIdpUser,
    CognitoIdpUserPool,
    CognitoIdpUserPoolAttribute,
    CognitoIdpUserPoolClient,
    UserStatus,
    cognitoidp_backends,
)
from moto.cognitoidp.utils import flatten_attrs
from moto.dynamodb.models import dynamodb_backends
from moto.dynamodb.models.table import Table
from moto.iam.models import (
    AccessKey,
    AWSManagedPolicy,
    ManagedPolicy,
    OpenIDConnectProvider,
    PolicyVersion,
    Role,
    User,
    iam_backends,
)
from moto.s3.models import (
    CorsRule,
    FakeBucket,
    FakeDeleteMarker,
    FakeKey,
    LifecycleAndFilter,
    LifecycleFilter,
    LifecycleRule,
    LifecycleTransition,
    LifeCycleNoncurrentVersionTransition,
    PublicAccessBlock,
    s3_backends,
)

from sandbox.cognito_idp.keys import SigningKey
from sandbox.moto_seams.core import ACCOUNT_ID, PARTITION
from sandbox.moto_seams.persistence import BodyOnDisk

BodyName = Callable[[FakeKey], str]  # an object version -> the name of its body file
BodyPath = Callable[[str, int], Path]  # (that name, the size) -> the file, checked to exist


# --- plain values -------------------------------------------------------------


def _when(value: dt.datetime | None) -> str | None:
    """ISO 8601, keeping whether moto's datetime was naive (its utcnow) or aware."""
    return None if value is None else value.isoformat()


def _datetime(value: str | None) -> dt.datetime | None:
    return None if value is None else dt.datetime.fromisoformat(value)


def _text(value: str | bytes | None) -> str | None:
    return value.decode() if isinstance(value, bytes) else value


def _status(value: Any) -> str:
    return str(getattr(value, "value", value))


# --- cognito-idp ------------------------------------------------------------------


def _attribute(attribute: CognitoIdpUserPoolAttribute) -> dict[str, Any]:
    return {
        "name": attribute.name,
        "custom": attribute.custom,
        "data_type": attribute.data_type,
        "developer_only": attribute.developer_only,
        "mutable": attribute.mutable,
        "required": attribute.required,
        "string_constraints": attribute.string_constraints,
        "number_constraints": attribute.number_constraints,
    }


def _attribute_from(saved: dict[str, Any]) -> CognitoIdpUserPoolAttribute:
    # Built field by field: the constructor prefixes "custom:" and "dev:" to names that already carry them.
    attribute = CognitoIdpUserPoolAttribute.__new__(CognitoIdpUserPoolAttribute)
    for field in ("name", "custom", "data_type", "developer_only", "mutable", "required"):
        setattr(attribute, field, saved[field])
    attribute.string_constraints = saved["string_constraints"]
    attribute.number_constraints = saved["number_constraints"]
    return attribute


def _tokens(tokens: dict[str, Any]) -> list[list[Any]]:
    return [[token, None if entry is None else list(entry)] for token, entry in tokens.items()]


def _tokens_from(saved: list[list[Any]]) -> dict[str, Any]:
    return {token: None if entry is None else tuple(entry) for token, entry in saved}


def _user_pool(region: str, pool: CognitoIdpUserPool) -> dict[str, Any]:
    key = getattr(pool, "sandbox_signing_key", None)
    return {
        "id": pool.id,
        "region": region,
        "arn": pool.arn,
        "name": pool.name,
        "status": pool.status,
        "config": pool.extended_config,
        "schema": [_attribute(a) for a in pool.schema_attributes.values()],
        "mfa": {"configuration": pool.mfa_config, "sms": pool.sms_mfa_config, "software_token": pool.token_mfa_config},
        "created": _when(pool.creation_date),
        "modified": _when(pool.last_modified_date),
        "signing_key_pem": None if key is None else key.private_pem.decode(),
        "clients": [
            {"id": c.id, "secret": c.secret, "generate_secret": c.generate_secret, "config": c.extended_config}
            for c in pool.clients.values()
        ],
        "identity_providers": [
            {"name": p.name, "config": p.extended_config, "created": _when(p.creation_date), "modified": _when(p.last_modified_date)}
            for p in pool.identity_providers.values()
        ],
        "groups": [
            {
                "name": g.group_name,
                "description": g.description,
                "role_arn": g.role_arn,
                "precedence": g.precedence,
                "created": _when(g.creation_date),
                "modified": _when(g.last_modified_date),
            }
            for g in pool.groups.values()
        ],
        "users": [
            {
                "username": u.username,
                "sub": u.id,
                "password": u.password,  # moto keeps the password itself: the only verifier it has
                "status": _status(u.status),
                "enabled": u.enabled,
                "attributes": [dict(a) for a in u.attributes],
                "mfa": {
                    "sms": u.sms_mfa_enabled,
                    "software_token": u.software_token_mfa_enabled,
                    "token_verified": u.token_verified,
                    "preferred": u.preferred_mfa_setting,
                },
                "confirmation_code": u.confirmation_code,
                "groups": sorted(g.group_name for g in u.groups),
                "created": _when(u.create_date),
                "modified": _when(u.last_modified_date),
            }
            for u in pool.users.values()
        ],
        "tokens": {"refresh": _tokens(pool.refresh_tokens), "access": _tokens(pool.access_tokens), "id": _tokens(pool.id_tokens)},
    }


def _user_pool_restore(saved: dict[str, Any]) -> None:
    region = saved["region"]
    pool = CognitoIdpUserPool(ACCOUNT_ID, region, saved["name"], dict(saved["config"]))
    pool.id, pool.arn, pool.status = saved["id"], saved["arn"], saved["status"]
    pool.extended_config = dict(saved["config"])
    pool.schema_attributes = {a["name"]: _attribute_from(a) for a in saved["schema"]}
    pool.mfa_config = saved["mfa"]["configuration"]
    pool.sms_mfa_config, pool.token_mfa_config = saved["mfa"]["sms"], saved["mfa"]["software_token"]
    pool.creation_date, pool.last_modified_date = _datetime(saved["created"]), _datetime(saved["modified"])
    if saved["signing_key_pem"] is not None:
        pool.sandbox_signing_key = SigningKey(private_pem=saved["signing_key_pem"].encode())
    for c in saved["clients"]:
        client = CognitoIdpUserPoolClient(pool.id, c["generate_secret"], dict(c["config"]))
        client.id, client.secret = c["id"], c["secret"]
        client.extended_config = dict(c["config"])
        pool.clients[client.id] = client
    for p in saved["identity_providers"]:
        provider = CognitoIdpIdentityProvider(p["name"], dict(p["config"]))
        provider.creation_date, provider.last_modified_date = _datetime(p["created"]), _datetime(p["modified"])
        pool.identity_providers[provider.name] = provider
    for g in saved["groups"]:
        group = CognitoIdpGroup(pool.id, g["name"], g["description"], g["role_arn"], g["precedence"])
        group.creation_date, group.last_modified_date = _datetime(g["created"]), _datetime(g["modified"])
        pool.groups[group.group_name] = group
    for u in saved["users"]:
        status = UserStatus(u["status"]) if u["status"] in UserStatus._value2member_map_ else u["status"]
        user = CognitoIdpUser(pool.id, u["username"], u["password"], status, [dict(a) for a in u["attributes"]])
        user.id, user.enabled = u["sub"], u["enabled"]
        user.attributes = [dict(a) for a in u["attributes"]]  # the constructor added a new `sub`; the saved one wins
        user.attribute_lookup = flatten_attrs(user.attributes)
        user.sms_mfa_enabled, user.software_token_mfa_enabled = u["mfa"]["sms"], u["mfa"]["software_token"]
        user.token_verified, user.preferred_mfa_setting = u["mfa"]["token_verified"], u["mfa"]["preferred"]
        user.confirmation_code = u["confirmation_code"]
        user.create_date, user.last_modified_date = _datetime(u["created"]), _datetime(u["modified"])
        for name in u["groups"]:  # both directions, as moto links them
            pool.groups[name].users.add(user)
            user.groups.add(pool.groups[name])
        pool.users[user.username] = user
    pool.refresh_tokens = _tokens_from(saved["tokens"]["refresh"])
    pool.access_tokens = _tokens_from(saved["tokens"]["access"])
    pool.id_tokens = _tokens_from(saved["tokens"]["id"])
    cognitoidp_backends[ACCOUNT_ID][region].user_pools[pool.id] = pool


# --- iam ------------------------------------------------------------------------


def _iam() -> Any:
    return iam_backends[ACCOUNT_ID][PARTITION]


def _managed_policy(policy: ManagedPolicy) -> dict[str, Any]:
    return {
        "arn": policy.arn,
        "name": policy.name,
        "path": policy.path,
        "id": policy.id,
        "description": policy.description,
        "aws_managed": isinstance(policy, AWSManagedPolicy),
        "tags": policy.tags,
        "default_version": policy.default_version_id,
        "versions": [
            {"id": v.version_id, "document": _text(v.document), "default": v.is_default, "created": _when(v.create_date)}
            for v in policy.versions
        ],
        "created": _when(policy.create_date),
        "updated": _when(policy.update_date),
    }


def _managed_policy_restore(saved: dict[str, Any]) -> None:
    iam = _iam()
    if saved["arn"] in iam.managed_policies:  # an AWS managed policy this moto loads itself
        return
    kind = AWSManagedPolicy if saved["aws_managed"] else ManagedPolicy
    policy = kind(
        saved["name"],
        account_id="aws" if saved["aws_managed"] else ACCOUNT_ID,
        region=iam.region_name,
        default_version_id=saved["default_version"],
        description=saved["description"],
        document=saved["versions"][0]["document"],
        path=saved["path"],
        create_date=_datetime(saved["created"]),
        update_date=_datetime(saved["updated"]),
        tags=saved["tags"],
    )
    policy.id = saved["id"]
    policy.versions = [
        PolicyVersion(policy.arn, v["document"], v["default"], v["id"], _datetime(v["created"])) for v in saved["versions"]
    ]
    policy.next_version_num = 1 + max(int(v["id"].lstrip("v")) for v in saved["versions"])
    iam.managed_policies[policy.arn] = policy


def _attached(owner: Any) -> list[str]:
    return sorted(owner.managed_policies)


def _attach(owner: Any, arns: list[str]) -> None:
    for arn in arns:
        _iam().managed_policies[arn].attach_to(owner)


def _role(role: Role) -> dict[str, Any]:
    return {
        "id": role.id,
        "name": role.name,
        "path": role.path,
        "trust_policy": _text(role.assume_role_policy_document),
        "description": role.description,
        "max_session_duration": role.max_session_duration,
        "permissions_boundary": role.permissions_boundary_arn,
        "tags": role.tags,
        "linked_service": role._linked_service,
        "created": _when(role.create_date),
        "inline_policies": {name: _text(document) for name, document in role.policies.items()},
        "attached_policies": _attached(role),
    }


def _role_restore(saved: dict[str, Any]) -> None:
    role = Role(
        ACCOUNT_ID,
        PARTITION,
        saved["id"],
        saved["name"],
        saved["trust_policy"],
        saved["path"],
        saved["permissions_boundary"],
        saved["description"],
        saved["tags"],
        saved["max_session_duration"],
        saved["linked_service"],
    )
    role.create_date = _datetime(saved["created"])
    role.policies = dict(saved["inline_policies"])
    _attach(role, saved["attached_policies"])
    _iam().roles[role.id] = role


def _user(user: User) -> dict[str, Any]:
    return {
        "name": user.name,
        "id": user.id,
        "path": user.path,
        "created": _when(user.create_date),
        "password": user.password,
        "inline_policies": {name: _text(document) for name, document in user.policies.items()},
        "attached_policies": _attached(user),
        "access_keys": [
            {"id": k.access_key_id, "secret": k.secret_access_key, "status": k.status, "created": _when(k.create_date)}
            for k in user.access_keys
        ],
    }


def _user_restore(saved: dict[str, Any]) -> None:
    iam = _iam()
    user = User(ACCOUNT_ID, iam.region_name, saved["name"], saved["path"])
    user.id, user.password, user.create_date = saved["id"], saved["password"], _datetime(saved["created"])
    user.policies = dict(saved["inline_policies"])
    _attach(user, saved["attached_policies"])
    for k in saved["access_keys"]:
        key = AccessKey(user.name, prefix="AKIA", account_id=ACCOUNT_ID, status=k["status"])
        key.access_key_id, key.secret_access_key, key.create_date = k["id"], k["secret"], _datetime(k["created"])
        user.access_keys.append(key)
        iam.access_keys[key.physical_resource_id] = key
    iam.users[user.name] = user


def _oidc_provider(provider: OpenIDConnectProvider) -> dict[str, Any]:
    scheme = getattr(provider, "sandbox_scheme", "https")  # kept by moto_seams.iam's seam
    return {
        "url": f"{scheme}://{provider.url}",
        "client_ids": list(provider.client_id_list),
        "thumbprints": list(provider.thumbprint_list),
        "tags": list(provider.tags.values()),
        "created": _when(provider.create_date),
    }


def _oidc_provider_restore(saved: dict[str, Any]) -> None:
    provider = _iam().create_open_id_connect_provider(saved["url"], saved["thumbprints"], saved["client_ids"], saved["tags"])
    provider.create_date = _datetime(saved["created"])


# --- s3 -------------------------------------------------------------------------


def _s3() -> Any:
    return s3_backends[ACCOUNT_ID][PARTITION]


def _tags(arn: str) -> dict[str, str]:
    return dict(_s3().tagger.get_tag_dict_for_resource(arn))


def _tag(arn: str, tags: dict[str, str]) -> None:
    if tags:
        _s3().tagger.tag_resource(arn, [{"Key": k, "Value": v} for k, v in tags.items()])


def _cors(rule: CorsRule) -> dict[str, Any]:
    return {
        "id": rule.id_,
        "allowed_methods": rule.allowed_methods,
        "allowed_origins": rule.allowed_origins,
        "allowed_headers": rule.allowed_headers,
        "expose_headers": rule.exposed_headers,
        "max_age_seconds": rule.max_age_seconds,
    }


def _cors_from(saved: dict[str, Any]) -> CorsRule:
    return CorsRule(
        saved["allowed_methods"],
        saved["allowed_origins"],
        saved["allowed_headers"],
        saved["expose_headers"],
        saved["max_age_seconds"],
        saved["id"],
    )


def _lifecycle_filter(found: LifecycleFilter | None) -> dict[str, Any] | None:
    if found is None:
        return None
    tag = None if found.tag_key is None else [found.tag_key, found.tag_value]
    both = found.and_filter
    return {"prefix": found.prefix, "tag": tag, "and": None if both is None else {"prefix": both.prefix, "tags": dict(both.tags)}}


def _lifecycle_filter_from(saved: dict[str, Any] | None) -> LifecycleFilter | None:
    if saved is None:
        return None
    both = saved["and"]
    return LifecycleFilter(
        prefix=saved["prefix"],
        tag=None if saved["tag"] is None else tuple(saved["tag"]),
        and_filter=None if both is None else LifecycleAndFilter(prefix=both["prefix"], tags=dict(both["tags"])),
    )


def _lifecycle(rule: LifecycleRule) -> dict[str, Any]:
    return {
        "id": rule.id,
        "prefix": rule.prefix,
        "filter": _lifecycle_filter(rule.filter),
        "status": rule.status,
        "expiration_days": rule.expiration_days,
        "expiration_date": rule.expiration_date,
        "expired_object_delete_marker": rule.expired_object_delete_marker,
        "transitions": [{"date": t.date, "days": t.days, "storage_class": t.storage_class} for t in rule.transitions or ()],
        "noncurrent_days": rule.nve_noncurrent_days,
        "noncurrent_transitions": [
            {"days": t.days, "storage_class": t.storage_class, "newer_versions": t.newer_versions}
            for t in rule.noncurrent_version_transitions or ()
        ],
        "abort_incomplete_multipart_days": rule.aimu_days,
    }


def _lifecycle_from(saved: dict[str, Any]) -> LifecycleRule:
    return LifecycleRule(
        rule_id=saved["id"],
        prefix=saved["prefix"],
        lc_filter=_lifecycle_filter_from(saved["filter"]),
        status=saved["status"],
        expiration_days=saved["expiration_days"],
        expiration_date=saved["expiration_date"],
        transitions=[LifecycleTransition(t["date"], t["days"], t["storage_class"]) for t in saved["transitions"]] or None,
        expired_object_delete_marker=saved["expired_object_delete_marker"],
        nve_noncurrent_days=saved["noncurrent_days"],
        noncurrent_version_transitions=[
            LifeCycleNoncurrentVersionTransition(t["days"], t["storage_class"], t["newer_versions"])
            for t in saved["noncurrent_transitions"]
        ]
        or None,
        aimu_days=saved["abort_incomplete_multipart_days"],
    )


def _version(version: FakeKey | FakeDeleteMarker, body_name: BodyName) -> dict[str, Any]:
    if isinstance(version, FakeDeleteMarker):
        return {"delete_marker": True, "version_id": version.version_id, "last_modified": _when(version.last_modified)}
    return {
        "delete_marker": False,
        "version_id": version._version_id,  # None for an object written while versioning was never on
        "versioned": version._is_versioned,
        "etag": version.etag.strip('"'),
        "size": version.size,
        "last_modified": _when(version.last_modified),
        "storage_class": version.storage_class,
        "metadata": dict(version.metadata),  # Content-Type, Cache-Control, x-amz-meta-*, ...
        "checksum": {
            "algorithm": version.checksum_algorithm,
            "value": version.checksum_value,
            "type": version.checksum_type,
            "parts": version.checksum_parts,
        },
        "encryption": {"algorithm": version.encryption, "kms_key_id": version.kms_key_id, "bucket_key": version.bucket_key_enabled},
        "website_redirect_location": version.website_redirect_location,
        "tags": _tags(version.arn),
        "body": body_name(version),
    }


def _version_from(bucket: FakeBucket, name: str, saved: dict[str, Any], previous: FakeKey | None, body_path: BodyPath) -> Any:
    if saved["delete_marker"]:
        marker = FakeDeleteMarker.__new__(FakeDeleteMarker)  # its constructor wants the key it hides
        marker.key, marker.name = previous, name
        marker.last_modified, marker._version_id = _datetime(saved["last_modified"]), saved["version_id"]
        return marker
    checksum, encryption = saved["checksum"], saved["encryption"]
    key = FakeKey(
        name,
        b"",
        ACCOUNT_ID,
        bucket.region_name,
        storage=saved["storage_class"],
        etag=saved["etag"],
        is_versioned=saved["versioned"],
        version_id=saved["version_id"],
        bucket_name=bucket.name,
        encryption=encryption["algorithm"],
        kms_key_id=encryption["kms_key_id"],
        bucket_key_enabled=encryption["bucket_key"],
        checksum_value=checksum["value"],
        checksum_type=checksum["type"],
        checksum_parts=checksum["parts"],
    )
    key._value_buffer.close()
    key._value_buffer = BodyOnDisk(body_path(saved["body"], saved["size"]), key._max_buffer_size)
    key.contentsize = saved["size"]
    key.last_modified = _datetime(saved["last_modified"])
    key.checksum_algorithm = checksum["algorithm"]
    key.website_redirect_location = saved["website_redirect_location"]
    key._metadata.clear()  # the constructor's default Content-Type; the saved metadata has the real one
    key._metadata.update(saved["metadata"])
    _tag(key.arn, saved["tags"])
    return key


def _bucket(bucket: FakeBucket, body_name: BodyName) -> dict[str, Any]:
    block = bucket.public_access_block
    return {
        "name": bucket.name,
        "region": bucket.region_name,
        "created": _when(bucket.creation_date),
        "versioning": bucket.versioning_status,
        "policy": _text(bucket.policy),
        "cors": [_cors(r) for r in bucket.cors],
        "lifecycle": [_lifecycle(r) for r in bucket.rules],
        "public_access_block": None if block is None else block.to_config_dict(),
        "encryption": bucket.encryption,
        "ownership": bucket.ownership_rule,
        "tags": _tags(bucket.arn),
        "objects": [
            {"key": name, "versions": [_version(v, body_name) for v in versions]} for name, versions in bucket.keys.iterlists()
        ],
    }


def _bucket_restore(saved: dict[str, Any], body_path: BodyPath) -> None:
    bucket = FakeBucket(saved["name"], ACCOUNT_ID, saved["region"])  # registers it in s3_backends.bucket_accounts
    bucket.creation_date = _datetime(saved["created"])
    bucket.versioning_status = saved["versioning"]
    bucket.policy = None if saved["policy"] is None else saved["policy"].encode()
    bucket.cors = [_cors_from(r) for r in saved["cors"]]
    bucket.rules = [_lifecycle_from(r) for r in saved["lifecycle"]]
    block = saved["public_access_block"]
    if block is not None:
        bucket.public_access_block = PublicAccessBlock(
            block["blockPublicAcls"], block["ignorePublicAcls"], block["blockPublicPolicy"], block["restrictPublicBuckets"]
        )
    bucket.encryption, bucket.ownership_rule = saved["encryption"], saved["ownership"]
    _tag(bucket.arn, saved["tags"])
    for entry in saved["objects"]:
        versions: list[Any] = []
        for saved_version in entry["versions"]:
            previous = next((v for v in reversed(versions) if isinstance(v, FakeKey)), None)
            versions.append(_version_from(bucket, entry["key"], saved_version, previous, body_path))
        bucket.keys.setlist(entry["key"], versions)
    _s3().buckets[bucket.name] = bucket


# --- DynamoDB -------------------------------------------------------------------


def _index(index: Any, *, provisioned: bool) -> dict[str, Any]:
    saved = {"IndexName": index.name, "KeySchema": index.schema, "Projection": index.projection}
    throughput = getattr(index, "throughput", None)
    if provisioned and throughput:
        saved["ProvisionedThroughput"] = {k: throughput[k] for k in ("ReadCapacityUnits", "WriteCapacityUnits") if k in throughput}
    return saved


def _table(region: str, table: Table) -> dict[str, Any]:
    provisioned = table.billing_mode != "PAY_PER_REQUEST"
    return {
        "name": table.name,
        "region": region,
        "key_schema": table.schema,
        "attribute_definitions": table.attr,
        "billing_mode": table.billing_mode or "PROVISIONED",
        "throughput": {k: table.throughput[k] for k in ("ReadCapacityUnits", "WriteCapacityUnits")} if provisioned else None,
        "local_indexes": [_index(i, provisioned=False) for i in table.indexes],
        "global_indexes": [_index(i, provisioned=provisioned) for i in table.global_indexes],
        "tags": table.tags,
        "items": [item.to_json()["Attributes"] for item in table.all_items()],
    }


def _table_restore(saved: dict[str, Any]) -> None:
    backend = dynamodb_backends[ACCOUNT_ID][saved["region"]]
    backend.create_table(
        saved["name"],
        schema=saved["key_schema"],
        throughput=saved["throughput"],
        attr=saved["attribute_definitions"],
        global_indexes=saved["global_indexes"] or None,
        indexes=saved["local_indexes"] or None,
        streams=None,
        billing_mode=saved["billing_mode"],
        sse_specification=None,
        tags=saved["tags"],
        deletion_protection_enabled=False,
        warm_throughput=None,
    )
    for item in saved["items"]:
        backend.put_item(saved["name"], item)


# --- the whole ------------------------------------------------------------------


def moto_state(*, body_name: BodyName) -> dict[str, Any]:
    """Everything the sandbox keeps of moto, as plain data. The caller holds the
    gateway's lock, so nothing changes underneath; `body_name` gives each
    object version's body file. Every value returned is a fresh copy or
    immutable, so it can be serialised after the lock is released."""
    iam = _iam()
    attached = [p for p in iam.managed_policies.values() if not isinstance(p, AWSManagedPolicy) or p.attachment_count]
    state = {
        "user_pools": [
            _user_pool(region, pool)
            for region, backend in cognitoidp_backends[ACCOUNT_ID].items()
            for pool in backend.user_pools.values()
        ],
        "iam": {
            "managed_policies": [_managed_policy(p) for p in attached],
            "roles": [_role(r) for r in iam.roles.values()],
            "users": [_user(u) for u in iam.users.values()],
            "oidc_providers": [_oidc_provider(p) for p in iam.open_id_providers.values()],
        },
        "s3": {"buckets": [_bucket(b, body_name) for b in _s3().buckets.values()]},
        "dynamodb": {
            "tables": [
                _table(region, table)
                for region, backend in dynamodb_backends[ACCOUNT_ID].items()
                for table in backend.tables.values()
            ]
        },
    }
    return _copied(state)


def _copied(value: Any) -> Any:
    """A deep copy of plain data, refusing anything that is not (a moto object
    would not survive JSON, and a shared dict could change after the lock)."""
    if isinstance(value, dict):
        return {str(k): _copied(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_copied(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, dt.datetime):
        return _when(value)
    if isinstance(value, enum.Enum):
        return _copied(value.value)
    raise TypeError(f"not plain data: {type(value).__name__}")


def moto_state_restore(state: dict[str, Any], *, body_path: BodyPath) -> None:
    """Build moto's objects from `moto_state`'s data into empty backends.
    `body_path(name, size)` is where each object version's body is; it is
    checked to exist, not read."""
    for pool in state["user_pools"]:
        _user_pool_restore(pool)
    for policy in state["iam"]["managed_policies"]:
        _managed_policy_restore(policy)
    for role in state["iam"]["roles"]:
        _role_restore(role)
    for user in state["iam"]["users"]:
        _user_restore(user)
    for provider in state["iam"].get("oidc_providers", []):  # absent from documents written before issue 16
        _oidc_provider_restore(provider)
    for bucket in state["s3"]["buckets"]:
        _bucket_restore(bucket, body_path)
    for table in state.get("dynamodb", {"tables": []})["tables"]:  # absent from documents written before issue 17
        _table_restore(table)
