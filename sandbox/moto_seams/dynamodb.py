"""moto's DynamoDB tables: the key schema authorization needs.

`dynamodb:LeadingKeys` is the partition-key value of each item a request
touches, and which attribute of `Key` or `Item` is the partition key only
the table knows. The gateway reads it here, from moto's own table, rather
than asking DynamoDB with a second request (`DescribeTable`) that could race
with a `DeleteTable` and a `CreateTable` of another schema.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from moto.dynamodb.models import dynamodb_backends

from sandbox.moto_seams.core import ACCOUNT_ID


@dataclass(frozen=True)
class KeySchema:
    """A table's partition and sort key names, and each index's partition key."""

    partition: str
    sort: str | None = None
    indexes: Mapping[str, str] = field(default_factory=dict)  # index name -> its partition key


def key_schema(region: str, table: str) -> KeySchema | None:
    """The table's key schema, None when there is no such table."""
    found = dynamodb_backends[ACCOUNT_ID][region].tables.get(table)
    if found is None:
        return None
    indexes = {}
    for index in [*found.indexes, *found.global_indexes]:
        indexes[index.name] = next(k["AttributeName"] for k in index.schema if k["KeyType"] == "HASH")
    return KeySchema(partition=found.hash_key_attr, sort=found.range_key_attr, indexes=indexes)
