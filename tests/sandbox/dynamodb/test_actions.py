"""DynamoDB through the gateway with identity-pool credentials, boto3 only:
the issue's policy (the user actions on the albums table with
`ForAllValues:StringEquals` `dynamodb:LeadingKeys` = the caller's identity
ID) lets Alice reach her own partition and refuses Bob's, for each
operation; `Scan` is refused; guests get nothing; `dynamodb:Attributes`,
`dynamodb:Select` and `dynamodb:ReturnValues` limit what may be read and
written. See the developer guide, "Using IAM policy conditions for
fine-grained access control"."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.sandbox.dynamodb.conftest import (
    ALLOWED,
    DENIED,
    INVALID,
    Albums,
    Pool,
    outcome,
    own_rows,
    pool_under,
    signed_post,
    table_arn,
)


def key(identity_id: str, album_id: str = "a1") -> dict[str, Any]:
    return {"identityId": {"S": identity_id}, "albumId": {"S": album_id}}


@pytest.fixture(scope="module")
def users(albums: Albums) -> Pool:
    """Alice and Bob under the issue's policy; guests allowed in, with a guest role that has no DynamoDB statement."""
    guest_statements = [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::nothing/*"}]
    pool = pool_under(albums, [own_rows(albums.table)], guest_statements)
    albums.seed(pool.alice.identity_id, "a1", title="Alice's")
    albums.seed(pool.bob.identity_id, "b1", title="Bob's")
    return pool


def _get(albums, person, owner):
    return outcome(person.dynamodb().get_item, TableName=albums.table, Key=key(owner, "a1"))


def _put(albums, person, owner):
    return outcome(person.dynamodb().put_item, TableName=albums.table, Item={**key(owner, "new"), "title": {"S": "x"}})


def _update(albums, person, owner):
    return outcome(
        person.dynamodb().update_item, TableName=albums.table, Key=key(owner, "a1"),
        UpdateExpression="SET #t = :t", ExpressionAttributeNames={"#t": "title"}, ExpressionAttributeValues={":t": {"S": "y"}},
    )


def _delete(albums, person, owner):
    return outcome(person.dynamodb().delete_item, TableName=albums.table, Key=key(owner, "gone"))


def _query(albums, person, owner):
    return outcome(
        person.dynamodb().query, TableName=albums.table, KeyConditionExpression="identityId = :me",
        ExpressionAttributeValues={":me": {"S": owner}},
    )


def _batch_get(albums, person, owner):
    return outcome(person.dynamodb().batch_get_item, RequestItems={albums.table: {"Keys": [key(owner, "a1")]}})


OPERATIONS = [
    pytest.param(_get, id="GetItem"),
    pytest.param(_put, id="PutItem"),
    pytest.param(_update, id="UpdateItem"),
    pytest.param(_delete, id="DeleteItem"),
    pytest.param(_query, id="Query"),
    pytest.param(_batch_get, id="BatchGetItem"),
]


@pytest.mark.parametrize("operation", OPERATIONS)
def test_own_partition_reached(albums, users, operation):
    """Alice's request on her own partition key is allowed."""
    assert operation(albums, users.alice, users.alice.identity_id) == ALLOWED


@pytest.mark.parametrize("operation", OPERATIONS)
def test_other_partition_denied(albums, users, operation):
    """The same request with Bob's identity ID as partition key is refused."""
    assert operation(albums, users.alice, users.bob.identity_id) == DENIED


@pytest.mark.parametrize("operation", OPERATIONS)
def test_guest_denied(albums, users, operation):
    """A guest, whose role has no DynamoDB statement, is refused even its own partition."""
    assert operation(albums, users.guest, users.guest.identity_id) == DENIED


def test_denial_is_dynamodb_access_denied(albums, users):
    """The refusal is DynamoDB's AccessDeniedException with AWS's words, unquoted ARN and a request ID."""
    with pytest.raises(ClientError) as caught:
        users.alice.dynamodb().get_item(TableName=albums.table, Key=key(users.bob.identity_id))
    error = caught.value.response
    assert error["Error"]["Code"] == "AccessDeniedException"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert error["ResponseMetadata"]["RequestId"]
    message = error["Error"]["Message"]
    assert message.startswith("User: arn:aws:sts::123456789012:assumed-role/")
    assert message.endswith(
        f"is not authorized to perform: dynamodb:GetItem on resource: {table_arn(albums.table)} "
        "because no identity-based policy allows the dynamodb:GetItem action"
    )


def test_own_item_read_back(albums, users):
    """What Alice puts she reads back, and her Query lists only her partition."""
    me = users.alice.identity_id
    client = users.alice.dynamodb()
    client.put_item(TableName=albums.table, Item={**key(me, "readback"), "title": {"S": "Holidays"}})
    assert client.get_item(TableName=albums.table, Key=key(me, "readback"))["Item"]["title"] == {"S": "Holidays"}
    found = client.query(
        TableName=albums.table, KeyConditionExpression="#p = :me", ExpressionAttributeNames={"#p": "identityId"},
        ExpressionAttributeValues={":me": {"S": me}},
    )["Items"]
    assert found and {item["identityId"]["S"] for item in found} == {me}


def test_batch_with_one_foreign_item_denied(albums, users):
    """A BatchGetItem mixing Alice's key with Bob's is refused whole."""
    keys = [key(users.alice.identity_id, "a1"), key(users.bob.identity_id, "b1")]
    assert outcome(users.alice.dynamodb().batch_get_item, RequestItems={albums.table: {"Keys": keys}}) == DENIED


def test_scan_denied(albums, users):
    """Scan is not among the actions the policy allows: refused."""
    assert outcome(users.alice.dynamodb().scan, TableName=albums.table) == DENIED


QUERIES_WITHOUT_PARTITION = [
    pytest.param({"KeyConditionExpression": "albumId = :a", "ExpressionAttributeValues": {":a": {"S": "a1"}}}, id="sort-key-only"),
    pytest.param({"KeyConditionExpression": "identityId > :me", "ExpressionAttributeValues": {":me": {"S": "<ME>"}}}, id="greater-than"),
    pytest.param({"KeyConditionExpression": "begins_with(identityId, :me)", "ExpressionAttributeValues": {":me": {"S": "us"}}}, id="begins-with"),
    pytest.param({"KeyConditionExpression": "identityId = :me OR identityId = :other",
                  "ExpressionAttributeValues": {":me": {"S": "<ME>"}, ":other": {"S": "x"}}}, id="or"),
    pytest.param({"KeyConditionExpression": "identityId = :me AND identityId = :other",
                  "ExpressionAttributeValues": {":me": {"S": "<ME>"}, ":other": {"S": "x"}}}, id="twice"),
    pytest.param({"KeyConditionExpression": "identityId = :undefined", "ExpressionAttributeValues": {":me": {"S": "<ME>"}}}, id="undefined-value"),
    pytest.param({"KeyConditionExpression": "#p = :me", "ExpressionAttributeValues": {":me": {"S": "<ME>"}}}, id="undefined-name"),
    pytest.param({"KeyConditions": {"identityId": {"ComparisonOperator": "BEGINS_WITH", "AttributeValueList": [{"S": "us"}]}}},
                 id="legacy-begins-with"),
]


@pytest.mark.parametrize("params", QUERIES_WITHOUT_PARTITION)
def test_query_without_partition_equality_refused(albums, users, params):
    """A Query whose partition key value cannot be read is refused before any policy is asked (DynamoDB's ValidationException)."""
    params = json.loads(json.dumps(params).replace("<ME>", users.alice.identity_id))
    assert outcome(users.alice.dynamodb().query, TableName=albums.table, **params) == INVALID


def test_query_on_index_is_index_resource(albums, users):
    """A Query on an index needs dynamodb:Query on the index's ARN, which the policy does not name."""
    assert outcome(
        users.alice.dynamodb().query, TableName=albums.table, IndexName="by-title",
        KeyConditionExpression="title = :t", ExpressionAttributeValues={":t": {"S": "Bob's"}},
    ) == DENIED


# --- dynamodb:Attributes, dynamodb:Select, dynamodb:ReturnValues ---------------------------------

VISIBLE = ["identityId", "albumId", "title"]


@pytest.fixture(scope="module")
def limited(albums: Albums) -> Pool:
    """The developer guide's attribute-limiting policy on the albums table:
    only `identityId`, `albumId` and `title`, a specific projection, no
    return of whole items; within the caller's own partition."""
    statement = own_rows(
        albums.table,
        ["GetItem", "PutItem", "UpdateItem", "Query", "BatchGetItem"],
        StringEqualsIfExists={"dynamodb:Select": "SPECIFIC_ATTRIBUTES", "dynamodb:ReturnValues": ["NONE", "UPDATED_OLD", "UPDATED_NEW"]},
    )
    statement["Condition"]["ForAllValues:StringEquals"]["dynamodb:Attributes"] = VISIBLE
    pool = pool_under(albums, [statement])
    albums.seed(pool.alice.identity_id, "a1", title="Alice's", secret="hidden")
    return pool


def _limited_get(**params):
    return lambda albums, me: outcome(me.dynamodb().get_item, TableName=albums.table, Key=key(me.identity_id), **params)


def _limited_put(attributes: dict[str, str]):
    def call(albums, me):
        item = {**key(me.identity_id, "p1"), **{k: {"S": v} for k, v in attributes.items()}}
        return outcome(me.dynamodb().put_item, TableName=albums.table, Item=item)

    return call


def _limited_update(expression: str, names: dict[str, str] | None = None, **params):
    def call(albums, me):
        extra = {"ExpressionAttributeNames": names} if names else {}
        return outcome(
            me.dynamodb().update_item, TableName=albums.table, Key=key(me.identity_id),
            UpdateExpression=expression, ExpressionAttributeValues={":v": {"S": "v"}}, **extra, **params,
        )

    return call


def _limited_query(**params):
    def call(albums, me):
        values = {":me": {"S": me.identity_id}, **params.pop("values", {})}
        return outcome(
            me.dynamodb().query, TableName=albums.table, KeyConditionExpression="identityId = :me",
            ExpressionAttributeValues=values, **params,
        )

    return call


ATTRIBUTE_CASES = [
    pytest.param(_limited_get(ProjectionExpression="identityId, albumId, title"), ALLOWED, id="get-visible-projection"),
    pytest.param(_limited_get(ProjectionExpression="title, secret"), DENIED, id="get-hidden-projection"),
    pytest.param(_limited_get(ProjectionExpression="#s", ExpressionAttributeNames={"#s": "secret"}), DENIED, id="get-hidden-by-placeholder"),
    pytest.param(_limited_get(ProjectionExpression="title.part"), ALLOWED, id="get-nested-in-visible"),
    pytest.param(_limited_get(AttributesToGet=["title", "secret"]), DENIED, id="get-legacy-hidden"),
    pytest.param(_limited_get(), DENIED, id="get-whole-item"),
    pytest.param(_limited_put({"title": "t"}), ALLOWED, id="put-visible"),
    pytest.param(_limited_put({"title": "t", "secret": "s"}), DENIED, id="put-hidden"),
    pytest.param(_limited_update("SET title = :v"), ALLOWED, id="update-visible"),
    pytest.param(_limited_update("SET #x = :v", {"#x": "secret"}), DENIED, id="update-hidden"),
    pytest.param(_limited_update("SET title = :v REMOVE secret"), DENIED, id="update-removes-hidden"),
    pytest.param(_limited_update("SET title = :v", ConditionExpression="attribute_not_exists(secret)"), DENIED, id="update-tests-hidden"),
    pytest.param(_limited_update("SET title = :v", ReturnValues="UPDATED_NEW"), ALLOWED, id="update-returns-updated"),
    pytest.param(_limited_update("SET title = :v", ReturnValues="ALL_NEW"), DENIED, id="update-returns-whole"),
    pytest.param(_limited_query(ProjectionExpression="title"), ALLOWED, id="query-visible"),
    pytest.param(_limited_query(), DENIED, id="query-whole-items"),
    pytest.param(_limited_query(Select="COUNT"), DENIED, id="query-select-count"),
    pytest.param(_limited_query(ProjectionExpression="title", FilterExpression="secret = :s", values={":s": {"S": "x"}}),
                 DENIED, id="query-filters-hidden"),
]


@pytest.mark.parametrize(("call", "expected"), ATTRIBUTE_CASES)
def test_attributes_limit_reads_and_writes(albums, limited, call, expected):
    """dynamodb:Attributes (with Select and ReturnValues) decides which attributes a request may name."""
    assert call(albums, limited.alice) == expected


def test_visible_projection_returns_only_visible(albums, limited):
    """The allowed projection reads back the visible attributes, never the hidden one."""
    item = limited.alice.dynamodb().get_item(
        TableName=albums.table, Key=key(limited.alice.identity_id), ProjectionExpression="identityId, albumId, title"
    )["Item"]
    assert set(item) == set(VISIBLE)


# --- requests that are refused whatever the policy ---------------------------------------------


def _raw(albums, users, operation="GetItem", body=None, **options):
    body = body if body is not None else {"TableName": albums.table, "Key": key(users.alice.identity_id)}
    return signed_post(albums.dep.kit.endpoint, users.alice.credentials, operation, body, **options)


def test_duplicate_json_member_refused(albums, users):
    """A body naming TableName twice is refused: the decision and moto must not read different values."""
    me = json.dumps(key(users.alice.identity_id))
    body = f'{{"TableName": "{albums.table}", "TableName": "other-table", "Key": {me}}}'
    answer = _raw(albums, users, body=body)
    assert answer.status_code == 400
    assert answer.json()["__type"].endswith("#SerializationException")


def test_duplicate_key_attribute_refused(albums, users):
    """A Key naming the partition key twice (own ID, then Bob's) is refused."""
    body = (
        f'{{"TableName": "{albums.table}", "Key": {{"identityId": {{"S": "{users.alice.identity_id}"}}, '
        f'"identityId": {{"S": "{users.bob.identity_id}"}}, "albumId": {{"S": "b1"}}}}}}'
    )
    assert _raw(albums, users, body=body).status_code == 400


def test_target_for_another_service_refused(albums, users):
    """Signed for cognito-idp with a DynamoDB target: the target disagrees with the signed scope."""
    answer = _raw(albums, users, service="cognito-idp")
    assert answer.status_code == 400
    assert answer.json()["__type"].endswith("UnknownOperationException")


def test_action_parameter_beside_target_refused(albums, users):
    """`?Action=` beside `X-Amz-Target` names the operation twice: refused."""
    answer = _raw(albums, users, query="Action=Scan")
    assert answer.status_code == 400
    assert answer.json()["__type"].endswith("#SerializationException")


def test_form_body_refused(albums, users):
    """A url-encoded body is not DynamoDB's JSON protocol: refused."""
    answer = _raw(albums, users, body="TableName=x", headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert answer.status_code == 400


def test_unserved_operation_refused(albums, users):
    """PartiQL's ExecuteStatement would touch items no one named: the sandbox refuses it."""
    body = {"Statement": f'SELECT * FROM "{albums.table}"'}
    answer = _raw(albums, users, operation="ExecuteStatement", body=body)
    assert answer.status_code == 400
    assert answer.json()["__type"].endswith("#UnknownOperationException")


def test_unsigned_refused(albums):
    """DynamoDB serves nothing unsigned."""
    from tests.sandbox_kit import SandboxKit

    client = SandboxKit(albums.dep.kit.endpoint).unsigned("dynamodb")
    assert outcome(client.list_tables) == "MissingAuthenticationTokenException 400"


BAD_KEYS = [
    pytest.param({"identityId": {"S": "<ME>", "N": "1"}, "albumId": {"S": "a1"}}, id="two-types"),
    pytest.param({"identityId": {"SS": ["<ME>"]}, "albumId": {"S": "a1"}}, id="set-type"),
    pytest.param({"albumId": {"S": "a1"}}, id="no-partition-key"),
    pytest.param({}, id="empty"),
]


@pytest.mark.parametrize("bad", BAD_KEYS)
def test_unreadable_partition_key_refused(albums, users, bad):
    """A Key whose partition-key value cannot be read is DynamoDB's ValidationException, never a guess."""
    bad = json.loads(json.dumps(bad).replace("<ME>", users.alice.identity_id))
    assert outcome(users.alice.dynamodb().get_item, TableName=albums.table, Key=bad) == INVALID


@pytest.mark.parametrize("name", ["ab", "../etc", "a" * 256, "albums table"])
def test_bad_table_name_refused(users, name):
    """A table name outside DynamoDB's pattern is a ValidationException before any decision."""
    response = _raw_name(users, name)
    assert response.status_code == 400 and response.json()["__type"].endswith("#ValidationException")


def _raw_name(users, name):
    return signed_post(users.alice.kit.endpoint, users.alice.credentials, "GetItem",
                       {"TableName": name, "Key": key(users.alice.identity_id)})


def test_missing_table_denied_under_leading_keys(users):
    """No such table: its partition key cannot be known, so a LeadingKeys statement does not apply (fail closed)."""
    assert outcome(users.alice.dynamodb().get_item, TableName="no-such-table", Key=key(users.alice.identity_id)) == DENIED


def test_transaction_items_each_decided(albums, users):
    """TransactWriteItems: each item needs its own action; one foreign item refuses the whole transaction."""
    me, other = users.alice.identity_id, users.bob.identity_id
    put = lambda owner: {"Put": {"TableName": albums.table, "Item": {**key(owner, "tx"), "title": {"S": "t"}}}}  # noqa: E731
    client = users.alice.dynamodb()
    assert outcome(client.transact_write_items, TransactItems=[put(me)]) == ALLOWED
    assert outcome(client.transact_write_items, TransactItems=[put(me), put(other)]) == DENIED
    get = lambda owner: {"Get": {"TableName": albums.table, "Key": key(owner, "tx")}}  # noqa: E731
    assert outcome(client.transact_get_items, TransactItems=[get(me)]) == ALLOWED
    assert outcome(client.transact_get_items, TransactItems=[get(me), get(other)]) == DENIED


def test_batch_write_not_granted(albums, users):
    """BatchWriteItem is not among the issue's actions: refused even for Alice's own rows."""
    request = {albums.table: [{"PutRequest": {"Item": {**key(users.alice.identity_id, "bw"), "title": {"S": "t"}}}}]}
    assert outcome(users.alice.dynamodb().batch_write_item, RequestItems=request) == DENIED


def test_denial_recorded_in_decisions(albums, users):
    """The refusal's decision is kept under its request ID, explained with the condition that failed."""
    import requests

    with pytest.raises(ClientError) as caught:
        users.alice.dynamodb().get_item(TableName=albums.table, Key=key(users.bob.identity_id))
    request_id = caught.value.response["ResponseMetadata"]["RequestId"]
    answer = requests.get(f"{albums.dep.kit.endpoint}/_sandbox/decisions/{request_id}", timeout=5)
    assert answer.status_code == 200, answer.text
    decision = answer.json()
    assert decision["service"] == "dynamodb" and decision["operation"] == "GetItem"
    assert decision["allowed"] is False
    assert decision["message"] == caught.value.response["Error"]["Message"]
    (need,) = decision["needs"]
    assert need["action"] == "dynamodb:GetItem" and need["resource"] == table_arn(albums.table)
    assert "dynamodb:LeadingKeys" in json.dumps(need)


def test_guest_scope_down_lets_dynamodb_through(albums):
    """Cognito's guest scope-down lists DynamoDB: a guest role that allows its own rows reaches them, and no others."""
    pool = pool_under(albums, [own_rows(albums.table)], [own_rows(albums.table, ["GetItem", "PutItem"])])
    guest = pool.guest
    client = guest.dynamodb()
    assert outcome(client.put_item, TableName=albums.table, Item=key(guest.identity_id)) == ALLOWED
    assert outcome(client.get_item, TableName=albums.table, Key=key(guest.identity_id)) == ALLOWED
    assert outcome(client.get_item, TableName=albums.table, Key=key(pool.alice.identity_id)) == DENIED
    assert outcome(client.query, TableName=albums.table, KeyConditionExpression="identityId = :me",
                   ExpressionAttributeValues={":me": {"S": guest.identity_id}}) == DENIED


def test_calls_reach_the_trail(albums, users):
    """Allowed and refused DynamoDB calls are CloudTrail records of dynamodb.amazonaws.com, under their request IDs."""
    import datetime as dt

    import requests

    since = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    client = users.alice.dynamodb()
    allowed = client.get_item(TableName=albums.table, Key=key(users.alice.identity_id))["ResponseMetadata"]["RequestId"]
    with pytest.raises(ClientError) as caught:
        client.get_item(TableName=albums.table, Key=key(users.bob.identity_id))
    refused = caught.value.response["ResponseMetadata"]["RequestId"]
    records = requests.get(f"{albums.dep.kit.endpoint}/_sandbox/trail", params={"since": since, "limit": 1000}, timeout=5).json()["Records"]
    by_id = {r["requestID"]: r for r in records if r.get("eventSource") == "dynamodb.amazonaws.com"}
    assert by_id[allowed]["eventName"] == "GetItem" and by_id[allowed].get("errorCode") is None
    assert by_id[refused]["errorCode"] == "AccessDeniedException"
    assert by_id[refused]["requestParameters"]["tableName"] == albums.table


@pytest.mark.parametrize("attribute", ["identityId", "albumId"])
def test_update_cannot_rewrite_the_key(albums, users, attribute):
    """Legacy AttributeUpdates on a key attribute is refused, so no item moves out of the partition authorized."""
    me, other = users.alice.identity_id, users.bob.identity_id
    client = users.alice.dynamodb()
    client.put_item(TableName=albums.table, Item=key(me, "moving"))
    assert outcome(
        client.update_item, TableName=albums.table, Key=key(me, "moving"),
        AttributeUpdates={attribute: {"Value": {"S": other}, "Action": "PUT"}},
    ) == INVALID
    stored = albums.admin().get_item(TableName=albums.table, Key=key(me, "moving"))["Item"]
    assert stored == key(me, "moving")


def test_optimistic_concurrency_second_writer_refused(albums, users):
    """Two edits made from the same version: the first wins, the second gets ConditionalCheckFailedException."""
    me = users.alice.identity_id
    client = users.alice.dynamodb()
    client.put_item(TableName=albums.table, Item={**key(me, "versioned"), "title": {"S": "v1"}, "version": {"N": "1"}})

    def rename(title: str) -> str:
        return outcome(
            client.update_item, TableName=albums.table, Key=key(me, "versioned"),
            UpdateExpression="SET title = :t, version = version + :one", ConditionExpression="version = :seen",
            ExpressionAttributeValues={":t": {"S": title}, ":one": {"N": "1"}, ":seen": {"N": "1"}},
        )

    assert rename("first tab") == ALLOWED
    assert rename("second tab") == "ConditionalCheckFailedException 400"
    stored = client.get_item(TableName=albums.table, Key=key(me, "versioned"))["Item"]
    assert stored["title"] == {"S": "first tab"} and stored["version"] == {"N": "2"}


def _nested(levels: int) -> dict[str, Any]:
    value: dict[str, Any] = {"S": "leaf"}
    for _ in range(levels):
        value = {"M": {"m": value}}
    return value


def test_nesting_depth_bounded(albums, users):
    """An item nested 30 levels deep is stored (DynamoDB allows 32); one nested 100 levels is refused unread."""
    me = users.alice.identity_id
    client = users.alice.dynamodb()
    assert outcome(client.put_item, TableName=albums.table, Item={**key(me, "deep"), "tree": _nested(30)}) == ALLOWED
    body = {"TableName": albums.table, "Item": {**key(me, "deeper"), "tree": _nested(100)}}
    answer = signed_post(albums.dep.kit.endpoint, users.alice.credentials, "PutItem", body)
    assert answer.status_code == 400 and answer.json()["__type"].endswith("#SerializationException")


# --- whatever the body, a fixed refusal, never a crash (offline, seeded, bounded) -----------------

_JUNK = [None, 1, 1.5, True, "x", "", [], [1], {}, {"S": "a"}, {"S": ["a"]}, {"a": 1}, [{"S": "a"}],
         "identityId = :v", {":v": {"S": "a"}}, {":v": [1]}, {"#a": 1}, {"#a": "x"}]
_FIELDS = ["TableName", "Key", "Item", "ProjectionExpression", "ExpressionAttributeNames", "ExpressionAttributeValues",
           "KeyConditionExpression", "KeyConditions", "FilterExpression", "ConditionExpression", "UpdateExpression",
           "AttributesToGet", "Select", "ReturnValues", "IndexName", "RequestItems", "TransactItems",
           "ReturnConsumedCapacity", "AttributeUpdates", "Expected", "ResourceArn"]
_OPERATIONS = ["GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan", "BatchGetItem", "BatchWriteItem",
               "TransactGetItems", "TransactWriteItems", "CreateTable", "ListTables", "TagResource", "Bogus"]
_MEMBERS = ["t-albums", "Keys", "PutRequest", "DeleteRequest", "Get", "Put", "Update", "identityId", "albumId", "S", "N", "M"]


def test_needs_refuse_junk_with_aws_errors_only():
    """20,000 random parameter shapes: every one is decided or refused with an AwsError, none raises anything else (a 500)."""
    import random

    from sandbox.dynamodb.actions import needs
    from sandbox.errors import AwsError
    from sandbox.moto_seams.dynamodb import KeySchema

    rng = random.Random(17)
    schema = KeySchema("identityId", "albumId", {"by-title": "title"})

    def value(depth: int = 0) -> Any:
        roll = rng.random()
        if depth < 3 and roll < 0.2:
            return {rng.choice(_MEMBERS): value(depth + 1) for _ in range(rng.randint(0, 3))}
        if depth < 3 and roll < 0.3:
            return [value(depth + 1) for _ in range(rng.randint(0, 3))]
        return rng.choice(_JUNK)

    for _ in range(20_000):
        params = {name: value() for name in rng.sample(_FIELDS, rng.randint(0, 6))}
        if rng.random() < 0.5:
            params["TableName"] = "t-albums"
        known = rng.random() < 0.8
        try:
            needs(rng.choice(_OPERATIONS), params, region="us-east-1", schema_of=lambda r, t: schema if known else None)
        except AwsError:
            pass


def test_input_moto_cannot_serve_is_a_validation_error(albums):
    """The admin key's malformed GetItem (a Key that is no map), which moto fails on: a fixed 400 ValidationException, never a 500."""
    admin = {"aws_access_key_id": "test", "aws_secret_access_key": "test"}
    answer = signed_post(albums.dep.kit.endpoint, admin, "GetItem", {"TableName": albums.table, "Key": 5})
    assert answer.status_code == 400
    assert answer.json() == {"__type": "com.amazon.coral.validate#ValidationException",
                             "message": "The request's parameters are missing or invalid."}


def test_duplicate_member_refused_for_cognito_too(albums):
    """The JSON APIs share the rule: an unsigned GetId naming IdentityPoolId twice is refused, not read either way."""
    import requests

    body = '{"IdentityPoolId": "us-east-1:00000000-0000-4000-8000-000000000000", "IdentityPoolId": "us-east-1:x"}'
    answer = requests.post(
        albums.dep.kit.endpoint + "/", data=body, timeout=10,
        headers={"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "AWSCognitoIdentityService.GetId"},
    )
    assert answer.status_code == 400
    assert answer.json()["__type"] == "SerializationException"


def test_trail_keeps_attribute_names_as_written(albums, users):
    """In the trail record, API members are camel-cased as CloudTrail writes them, attribute names are left as they are."""
    import datetime as dt

    import requests

    since = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    me = users.alice.identity_id
    answer = users.alice.dynamodb().put_item(TableName=albums.table, Item={**key(me, "cased"), "Title": {"S": "Upper"}})
    request_id = answer["ResponseMetadata"]["RequestId"]
    records = requests.get(f"{albums.dep.kit.endpoint}/_sandbox/trail", params={"since": since, "limit": 1000}, timeout=5).json()["Records"]
    (record,) = [r for r in records if r["requestID"] == request_id]
    assert record["requestParameters"]["tableName"] == albums.table
    assert set(record["requestParameters"]["item"]) == {"identityId", "albumId", "Title"}
