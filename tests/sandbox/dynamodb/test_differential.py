"""The differential check: for a table of policies x DynamoDB requests, three
answers must agree.

1. `expected`, written by hand from AWS's documentation: the developer
   guide's "Using IAM policy conditions for fine-grained access control"
   (specifying-conditions.html: what `dynamodb:LeadingKeys`,
   `dynamodb:Attributes`, `dynamodb:Select` and `dynamodb:ReturnValues`
   hold, that `Select` and `ReturnValues` always have a value) and the IAM
   user guide's "Single-valued vs. multivalued context keys" (`ForAllValues:`
   holds on an empty set, `ForAnyValue:` does not);
2. the policy evaluated offline by `iampolicy` on the request context the
   row writes by hand (`context`), following the same pages: this checks
   the hand-written answer against the evaluator the other tests trust;
3. the sandbox's answer to the request sent with boto3, whose context the
   gateway builds itself from the request and the table's key schema:
   this checks the gateway's reading of requests against the documents.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from iampolicy import Mode, evaluate
from tests.sandbox.dynamodb.conftest import ALLOWED, DENIED, SUB, Albums, Pool, outcome, own_rows, pool_under, table_arn

ALL_ACTIONS = ["GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan", "BatchGetItem", "BatchWriteItem"]


def _policies(table: str) -> dict[str, list[dict[str, Any]]]:
    arn = table_arn(table)
    attributes = own_rows(table, ["GetItem", "UpdateItem", "Query"],
                          StringEqualsIfExists={"dynamodb:Select": "SPECIFIC_ATTRIBUTES",
                                                "dynamodb:ReturnValues": ["NONE", "UPDATED_OLD", "UPDATED_NEW"]})
    attributes["Condition"]["ForAllValues:StringEquals"]["dynamodb:Attributes"] = ["identityId", "albumId", "title"]
    return {
        # the policy
        "own-rows": [own_rows(table)],
        # ForAnyValue: one own key is enough (why AWS says LeadingKeys needs ForAllValues)
        "any-value": [{"Effect": "Allow", "Action": [f"dynamodb:{a}" for a in ALL_ACTIONS], "Resource": arn,
                       "Condition": {"ForAnyValue:StringEquals": {"dynamodb:LeadingKeys": [SUB]}}}],
        # ForAllValues without Scan excluded: a Scan's empty LeadingKeys satisfies it
        "all-actions": [own_rows(table, ALL_ACTIONS)],
        # deny-based: everything allowed, another partition denied
        "deny-others": [{"Effect": "Allow", "Action": "dynamodb:*", "Resource": arn},
                        {"Effect": "Deny", "Action": "dynamodb:*", "Resource": arn,
                         "Condition": {"ForAnyValue:StringNotEquals": {"dynamodb:LeadingKeys": [SUB]}}}],
        # the guide's attribute-limiting example, within the own partition
        "attributes": [attributes],
        # attribute names by pattern
        "pattern": [own_rows(table, ["PutItem"], **{"ForAllValues:StringLike": {"dynamodb:Attributes": ["identityId", "albumId", "t*"]}})],
    }


def _key(owner: str, album: str = "a1") -> dict[str, Any]:
    return {"identityId": {"S": owner}, "albumId": {"S": album}}


def get(owner: str, **extra: Any) -> tuple[str, dict]:
    return "get_item", {"Key": _key(owner), **extra}


def put(owner: str, **attributes: str) -> tuple[str, dict]:
    return "put_item", {"Item": {**_key(owner, "d1"), **{k: {"S": v} for k, v in attributes.items()}}}


def update(owner: str, expression: str, **extra: Any) -> tuple[str, dict]:
    return "update_item", {"Key": _key(owner), "UpdateExpression": expression,
                           "ExpressionAttributeValues": {":v": {"S": "v"}}, **extra}


def query(owner: str, **extra: Any) -> tuple[str, dict]:
    return "query", {"KeyConditionExpression": "identityId = :p", "ExpressionAttributeValues": {":p": {"S": owner}}, **extra}


def scan() -> tuple[str, dict]:
    return "scan", {}


def batch_get(*owners: str) -> tuple[str, dict]:
    return "batch_get_item", {"RequestItems": {"<T>": {"Keys": [_key(o) for o in owners]}}}


def batch_put(*owners: str) -> tuple[str, dict]:
    return "batch_write_item", {"RequestItems": {"<T>": [{"PutRequest": {"Item": _key(o, "b")}} for o in owners]}}


KEYS = ["identityId", "albumId"]
# the context each read or write has by AWS's documents, written by hand
def ctx(leading: list[str], attributes: list[str], **single: str) -> dict[str, Any]:
    found: dict[str, Any] = {"dynamodb:leadingkeys": leading, "dynamodb:attributes": attributes}
    found.update({f"dynamodb:{k.lower()}": v for k, v in single.items()})
    return found


ME, OTHER = "<ME>", "<OTHER>"
ROWS = [
    # policy, action, request, hand-written context, expected
    ("own-rows", "GetItem", get(ME), ctx([ME], KEYS, Select="ALL_ATTRIBUTES"), ALLOWED),
    ("own-rows", "GetItem", get(OTHER), ctx([OTHER], KEYS, Select="ALL_ATTRIBUTES"), DENIED),
    ("own-rows", "PutItem", put(ME, title="t"), ctx([ME], [*KEYS, "title"], ReturnValues="NONE"), ALLOWED),
    ("own-rows", "PutItem", put(OTHER), ctx([OTHER], KEYS, ReturnValues="NONE"), DENIED),
    ("own-rows", "UpdateItem", update(OTHER, "SET title = :v"), ctx([OTHER], [*KEYS, "title"], ReturnValues="NONE"), DENIED),
    ("own-rows", "Query", query(ME), ctx([ME], ["identityId"], Select="ALL_ATTRIBUTES"), ALLOWED),
    ("own-rows", "Query", query(OTHER), ctx([OTHER], ["identityId"], Select="ALL_ATTRIBUTES"), DENIED),
    ("own-rows", "Scan", scan(), ctx([], [], Select="ALL_ATTRIBUTES"), DENIED),
    ("own-rows", "BatchGetItem", batch_get(ME, OTHER), ctx([ME, OTHER], KEYS, Select="ALL_ATTRIBUTES"), DENIED),
    ("own-rows", "BatchGetItem", batch_get(ME), ctx([ME], KEYS, Select="ALL_ATTRIBUTES"), ALLOWED),
    ("any-value", "BatchGetItem", batch_get(ME, OTHER), ctx([ME, OTHER], KEYS, Select="ALL_ATTRIBUTES"), ALLOWED),
    ("any-value", "GetItem", get(OTHER), ctx([OTHER], KEYS, Select="ALL_ATTRIBUTES"), DENIED),
    ("any-value", "Scan", scan(), ctx([], [], Select="ALL_ATTRIBUTES"), DENIED),
    ("any-value", "BatchWriteItem", batch_put(OTHER, ME), ctx([OTHER, ME], KEYS), ALLOWED),
    ("all-actions", "Scan", scan(), ctx([], [], Select="ALL_ATTRIBUTES"), ALLOWED),
    ("all-actions", "BatchWriteItem", batch_put(ME, OTHER), ctx([ME, OTHER], KEYS), DENIED),
    ("all-actions", "BatchWriteItem", batch_put(ME), ctx([ME], KEYS), ALLOWED),
    ("deny-others", "GetItem", get(ME), ctx([ME], KEYS, Select="ALL_ATTRIBUTES"), ALLOWED),
    ("deny-others", "GetItem", get(OTHER), ctx([OTHER], KEYS, Select="ALL_ATTRIBUTES"), DENIED),
    ("deny-others", "BatchGetItem", batch_get(ME, OTHER), ctx([ME, OTHER], KEYS, Select="ALL_ATTRIBUTES"), DENIED),
    ("deny-others", "Scan", scan(), ctx([], [], Select="ALL_ATTRIBUTES"), ALLOWED),
    ("attributes", "GetItem", get(ME, ProjectionExpression="title"), ctx([ME], [*KEYS, "title"], Select="SPECIFIC_ATTRIBUTES"), ALLOWED),
    ("attributes", "GetItem", get(ME), ctx([ME], KEYS, Select="ALL_ATTRIBUTES"), DENIED),
    ("attributes", "GetItem", get(ME, ProjectionExpression="title, secret"),
     ctx([ME], [*KEYS, "title", "secret"], Select="SPECIFIC_ATTRIBUTES"), DENIED),
    ("attributes", "GetItem", get(OTHER, ProjectionExpression="title"), ctx([OTHER], [*KEYS, "title"], Select="SPECIFIC_ATTRIBUTES"), DENIED),
    ("attributes", "UpdateItem", update(ME, "SET title = :v"), ctx([ME], [*KEYS, "title"], ReturnValues="NONE"), ALLOWED),
    ("attributes", "UpdateItem", update(ME, "SET title = :v", ReturnValues="ALL_OLD"),
     ctx([ME], [*KEYS, "title"], ReturnValues="ALL_OLD"), DENIED),
    ("attributes", "UpdateItem", update(ME, "SET #h = :v", ExpressionAttributeNames={"#h": "secret"}),
     ctx([ME], [*KEYS, "secret"], ReturnValues="NONE"), DENIED),
    ("attributes", "Query", query(ME, ProjectionExpression="albumId"), ctx([ME], ["identityId", "albumId"], Select="SPECIFIC_ATTRIBUTES"), ALLOWED),
    ("attributes", "Query", query(ME, Select="COUNT"), ctx([ME], ["identityId"], Select="COUNT"), DENIED),
    ("pattern", "PutItem", put(ME, title="t", tags="x"), ctx([ME], [*KEYS, "tags", "title"], ReturnValues="NONE"), ALLOWED),
    ("pattern", "PutItem", put(ME, title="t", secret="s"), ctx([ME], [*KEYS, "secret", "title"], ReturnValues="NONE"), DENIED),
]


def _fill(value: Any, tokens: dict[str, str]) -> Any:
    text = json.dumps(value)
    for token, replacement in tokens.items():
        text = text.replace(token, replacement)
    return json.loads(text)


@pytest.fixture(scope="module")
def pools(albums: Albums) -> dict[str, Pool]:
    """One identity pool per policy; everyone's items seeded with the admin key."""
    made = {name: pool_under(albums, statements) for name, statements in _policies(albums.table).items()}
    for pool in made.values():
        for person in (pool.alice, pool.bob):
            albums.seed(person.identity_id, "a1", title="t", secret="s")
    return made


def _offline(policy: list[dict], action: str, resource: str, context: dict[str, Any], identity_id: str) -> str:
    document = json.dumps({"Version": "2012-10-17", "Statement": policy})
    full = {**context, "cognito-identity.amazonaws.com:sub": identity_id}
    decision = evaluate([document], action=f"dynamodb:{action}", resource=resource, context=full, mode=Mode.ENFORCE)
    return ALLOWED if decision.allowed else DENIED


@pytest.mark.parametrize(("policy", "action", "request_", "context", "expected"), ROWS,
                         ids=[f"{r[0]}-{r[1]}-{i}" for i, r in enumerate(ROWS)])
def test_sandbox_agrees_with_documents_and_evaluator(albums, pools, policy, action, request_, context, expected):
    """The hand-written answer, iampolicy on the hand-written context, and the sandbox agree."""
    pool = pools[policy]
    tokens = {ME: pool.alice.identity_id, OTHER: pool.bob.identity_id, "<T>": albums.table}
    operation, params = _fill(request_, tokens)
    statements = _fill(_policies(albums.table)[policy], {})
    offline = _offline(statements, action, table_arn(albums.table), _fill(context, tokens), pool.alice.identity_id)
    assert offline == expected, "the hand-written answer disagrees with iampolicy on the hand-written context"
    extra = {} if "RequestItems" in params else {"TableName": albums.table}
    sandbox = outcome(getattr(pool.alice.dynamodb(), operation), **extra, **params)
    assert sandbox == expected, "the sandbox's answer disagrees with the documents"


_OPERATIONS = {"get_item": "GetItem", "put_item": "PutItem", "update_item": "UpdateItem", "query": "Query",
               "scan": "Scan", "batch_get_item": "BatchGetItem", "batch_write_item": "BatchWriteItem"}


@pytest.mark.parametrize(("policy", "action", "request_", "context", "expected"), ROWS,
                         ids=[f"{r[0]}-{r[1]}-{i}" for i, r in enumerate(ROWS)])
def test_gateway_context_is_the_documented_one(policy, action, request_, context, expected):
    """The condition keys the gateway reads from each request are the ones written by hand from the guide."""
    from sandbox.dynamodb.actions import needs
    from sandbox.moto_seams.dynamodb import KeySchema

    tokens = {ME: "us-east-1:me", OTHER: "us-east-1:other", "<T>": "t-albums"}
    operation, params = _fill(request_, tokens)
    if "RequestItems" not in params:
        params["TableName"] = "t-albums"
    schema = KeySchema(partition="identityId", sort="albumId", indexes={"by-title": "title"})
    (need,) = needs(_OPERATIONS[operation], params, region="us-east-1", schema_of=lambda region, table: schema)
    assert need.action == f"dynamodb:{action}"
    written = _fill(context, tokens)
    got = dict(need.context)
    assert {k: sorted(v) if isinstance(v, list) else v for k, v in got.items()} == {
        k: sorted(v) if isinstance(v, list) else v for k, v in written.items()
    }
