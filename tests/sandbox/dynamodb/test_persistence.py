"""`python -m sandbox --data-dir DIR` keeps DynamoDB's tables and items: a
table made with the admin key, an album Alice wrote with her identity-pool
credentials, are there after a clean stop and a start, and the partition
rule still holds with her new credentials. The sandbox is a real subprocess
on a free loopback port, driven with boto3 only, killed in teardown."""

from __future__ import annotations

import signal

import pytest

from tests.sandbox.dynamodb.conftest import DENIED, create_albums_table, outcome, own_rows
from tests.sandbox.test_persistence import sandbox_on
from tests.sandbox_kit import Deployment


def _policy_pool(dep: Deployment, table: str) -> None:
    """The deployment's authenticated role gets the issue's albums statement (beside its S3 policy)."""
    import json

    iam = dep.kit.client("iam")
    role_name = dep.roles["authenticated"].rsplit("/", 1)[1]
    document = json.dumps({"Version": "2012-10-17", "Statement": [own_rows(table)]})
    iam.put_role_policy(RoleName=role_name, PolicyName="albums", PolicyDocument=document)


def test_tables_and_items_survive_a_restart(tmp_path):
    """Table, schema and items are back after SIGTERM and a start on the same directory."""
    with sandbox_on(tmp_path) as first:
        kit = first.wait_ready()
        dep = kit.deployment(users=("alice", "bob"))
        table = f"{dep.suffix}-albums"
        create_albums_table(kit, table)
        _policy_pool(dep, table)
        alice, credentials = dep.user_credentials("alice")
        bob, _ = dep.user_credentials("bob")
        kit.client("dynamodb", credentials).put_item(
            TableName=table,
            Item={"identityId": {"S": alice}, "albumId": {"S": "a1"}, "title": {"S": "Holidays"}, "photos": {"L": [{"S": "p1"}]}},
        )
        assert first.stop(signal.SIGTERM) == 0
    with sandbox_on(tmp_path, first.port) as second:  # the same endpoint, which `dep` keeps
        kit = second.wait_ready()
        admin = kit.client("dynamodb")
        assert table in admin.list_tables()["TableNames"]
        schema = admin.describe_table(TableName=table)["Table"]["KeySchema"]
        assert schema == [{"AttributeName": "identityId", "KeyType": "HASH"}, {"AttributeName": "albumId", "KeyType": "RANGE"}]
        again, credentials = dep.user_credentials("alice")
        assert again == alice
        client = kit.client("dynamodb", credentials)
        item = client.get_item(TableName=table, Key={"identityId": {"S": alice}, "albumId": {"S": "a1"}})["Item"]
        assert item["title"] == {"S": "Holidays"} and item["photos"] == {"L": [{"S": "p1"}]}
        assert outcome(client.get_item, TableName=table, Key={"identityId": {"S": bob}, "albumId": {"S": "a1"}}) == DENIED
        assert second.stop(signal.SIGTERM) == 0


pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")
