"""`python -m sandbox --data-dir DIR` keeps DynamoDB's tables and items: a
table made with the admin key, an album Alice wrote with her identity-pool
credentials, are there after a clean stop and a start, and the partition
rule still holds with her new credentials. The sandbox is a real subprocess
on a free loopback port, driven with boto3 only, killed in teardown."""

from __future__ import annotations

import signal

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




ITEMS = [
    {"identityId": {"S": "us-east-1:a"}, "albumId": {"S": "a1"}, "title": {"S": "Holidays"},
     "photos": {"L": [{"S": "p1"}, {"S": "p2"}]}, "version": {"N": "3"}},
    {"identityId": {"S": "us-east-1:a"}, "albumId": {"S": "a2"}, "title": {"S": "Cats"},
     "meta": {"M": {"cover": {"S": "p9"}, "n": {"N": "1.5"}}}, "tags": {"SS": ["x", "y"]}, "flag": {"BOOL": True}},
    {"identityId": {"S": "us-east-1:b"}, "albumId": {"S": "b1"}, "title": {"S": "Dogs"}, "nothing": {"NULL": True}},
]


def test_export_and_import_carry_tables_and_items(tmp_path):
    """`export` then `import` into a fresh directory: the table, its index and every item, every type, come back."""
    from tests.sandbox.dynamodb.conftest import create_albums_table
    from tests.sandbox.test_state_export import sandbox_command

    original, file, fresh = tmp_path / "original", tmp_path / "state.json", tmp_path / "fresh"
    with sandbox_on(original) as first:
        admin = first.wait_ready().client("dynamodb")
        create_albums_table(first.kit, "carried-albums")
        for item in ITEMS:
            admin.put_item(TableName="carried-albums", Item=item)
        before = admin.describe_table(TableName="carried-albums")["Table"]
        assert first.stop(signal.SIGTERM) == 0
    exported = sandbox_command("export", original, file)
    assert exported.returncode == 0, exported.stderr
    assert ", 1 tables, 3 items" in exported.stdout
    imported = sandbox_command("import", file, fresh)
    assert imported.returncode == 0, imported.stderr
    with sandbox_on(fresh) as second:
        admin = second.wait_ready().client("dynamodb")
        after = admin.describe_table(TableName="carried-albums")["Table"]
        for field in ("KeySchema", "AttributeDefinitions", "BillingModeSummary"):
            assert after.get(field) == before.get(field), field
        assert [i["IndexName"] for i in after["GlobalSecondaryIndexes"]] == ["by-title"]
        items = admin.scan(TableName="carried-albums")["Items"]
        key = lambda item: (item["identityId"]["S"], item["albumId"]["S"])  # noqa: E731
        assert sorted(items, key=key) == sorted(ITEMS, key=key)
        by_title = admin.query(TableName="carried-albums", IndexName="by-title", KeyConditionExpression="title = :t",
                               ExpressionAttributeValues={":t": {"S": "Cats"}})["Items"]
        assert [i["albumId"]["S"] for i in by_title] == ["a2"]
        assert second.stop(signal.SIGTERM) == 0
