"""DynamoDB through the gateway with identity-pool credentials, boto3 only:
the issue's policy (the user actions on the albums table with
`ForAllValues:StringEquals` `dynamodb:LeadingKeys` = the caller's identity
ID) lets Alice reach her own partition and refuses Bob's, for each
operation; `Scan` is refused; guests get nothing; `dynamodb:Attributes`,
`dynamodb:Select` and `dynamodb:ReturnValues` limit what may be read and
written. See the developer guide, "Using IAM policy conditions for
fine-grained access control"."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.sandbox.dynamodb.conftest import (
    ALLOWED,
    DENIED,
    INVALID,
    SUB,
    Albums,
    Pool,
    outcome,
    own_rows,
    pool_under,
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
    import json

    params = json.loads(json.dumps(params).replace("<ME>", users.alice.identity_id))
    assert outcome(users.alice.dynamodb().query, TableName=albums.table, **params) == INVALID


def test_query_on_index_is_index_resource(albums, users):
    """A Query on an index needs dynamodb:Query on the index's ARN, which the policy does not name."""
    assert outcome(
        users.alice.dynamodb().query, TableName=albums.table, IndexName="by-title",
        KeyConditionExpression="title = :t", ExpressionAttributeValues={":t": {"S": "Bob's"}},
    ) == DENIED
