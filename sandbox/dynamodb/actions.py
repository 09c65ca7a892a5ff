"""Which IAM actions a DynamoDB request needs, on which resources, with
which condition keys.

Each operation is the action `dynamodb:<Operation>` on its table,
`arn:aws:dynamodb:<region>:<account>:table/<name>` (a `Query` or `Scan` with
`IndexName` on `.../table/<name>/index/<index>`; `ListTables` and
`DescribeLimits` on `*`). A batch needs its action once per table it names,
each table decided on its own and all of them allowed; a transaction needs
each item's own action (`PutItem`, `UpdateItem`, `DeleteItem`,
`ConditionCheckItem`, `GetItem`) with `dynamodb:EnclosingOperation`, as the
developer guide's "Using IAM with DynamoDB transactions" says.

The condition keys ("Using IAM policy conditions for fine-grained access
control", https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/specifying-conditions.html):
- `dynamodb:LeadingKeys`: the partition-key value of every item the request
  touches (its `Key` or `Item`, each batch entry's, the `Query`'s key
  condition). Which attribute that is, the table's key schema says
  (`moto_seams.dynamodb`). No such table: the value is unknown, so a
  statement that asks for it does not apply (the enforcer fails closed).
  `Scan` names no partition: it has no value, and `ForAllValues:` on nothing
  holds, which is why AWS's examples leave `Scan` out of the actions. A
  `Query` always names one: a key condition without exactly one
  `<partition key> = :value` is invalid in DynamoDB, and is refused here
  (`ValidationException`) before any policy is asked, so a `Query` is never
  decided on an empty set that `ForAllValues:` would let through;
- `dynamodb:Attributes`: every attribute name the request reads, writes or
  tests: the key's, the item's, `ProjectionExpression` / `AttributesToGet`,
  and the names in update, condition, filter and key-condition expressions.
  A read without a projection names only its key attributes here and has
  `dynamodb:Select` `ALL_ATTRIBUTES`, which is what AWS's policies test;
- `dynamodb:Select`: the request's `Select`, else `SPECIFIC_ATTRIBUTES` with
  a projection, else `ALL_PROJECTED_ATTRIBUTES` on an index and
  `ALL_ATTRIBUTES` on a table ("the Select parameter always has a value");
- `dynamodb:ReturnValues`: the write's `ReturnValues`, `NONE` if not given.

Operations not listed here (PartiQL's `ExecuteStatement`, backups, global
tables, streams...) are refused: an item they touch could not be named.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from iampolicy.conditions import UNKNOWN
from sandbox import moto_seams
from sandbox.dynamodb.expressions import attribute_names, key_condition_partition, scalar, validation
from sandbox.errors import AwsError
from sandbox.moto_seams.dynamodb import KeySchema
from sandbox.s3.actions import Need

SchemaLookup = Callable[[str, str], "KeySchema | None"]  # (region, table) -> its key schema

_NAME = re.compile(r"[A-Za-z0-9_.-]{3,255}", re.ASCII)  # table and index names
LEADING_KEYS, ATTRIBUTES, SELECT, RETURN_VALUES = (
    "dynamodb:leadingkeys", "dynamodb:attributes", "dynamodb:select", "dynamodb:returnvalues"
)
ENCLOSING = "dynamodb:enclosingoperation"
RETURN_CONSUMED = "dynamodb:returnconsumedcapacity"
_SELECTS = frozenset({"ALL_ATTRIBUTES", "ALL_PROJECTED_ATTRIBUTES", "SPECIFIC_ATTRIBUTES", "COUNT"})
_RETURN_VALUES = frozenset({"NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW"})
MAX_BATCH_ITEMS = 100  # BatchGetItem's and the transactions' documented limit
MAX_BATCH_WRITES = 25  # BatchWriteItem's

# Operations on a table as a whole, which name no item.
_TABLE_OPERATIONS = frozenset(
    {"CreateTable", "DescribeTable", "DeleteTable", "UpdateTable", "DescribeTimeToLive", "UpdateTimeToLive",
     "DescribeContinuousBackups"}
)
_ACCOUNT_OPERATIONS = frozenset({"ListTables", "DescribeLimits"})
_TAG_OPERATIONS = frozenset({"TagResource", "UntagResource", "ListTagsOfResource"})


def table_arn(region: str, table: str) -> str:
    return f"arn:aws:dynamodb:{region}:{moto_seams.ACCOUNT_ID}:table/{table}"


def _name(value: Any, parameter: str) -> str:
    if not isinstance(value, str) or not _NAME.fullmatch(value):
        raise validation(
            f"1 validation error detected: Value at '{parameter}' failed to satisfy constraint: "
            "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+ and length between 3 and 255"
        )
    return value


def _map(value: Any, parameter: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise validation(f"Invalid {parameter}: it must be a map")
    return value


@dataclass
class _Item:
    """What one table's part of a request touches: the partition-key values
    and the attribute names (a table's entries of a batch add up here)."""

    leading: list[str] = field(default_factory=list)
    attributes: set[str] = field(default_factory=set)
    unknown_keys: bool = False  # no such table: which attribute is the partition key cannot be known


def _key(item: _Item, key: Any, schema: KeySchema | None, *, parameter: str) -> None:
    """A `Key` or `Item`: its attribute names, and its partition-key value."""
    key = _map(key, parameter)
    if not key:
        raise validation(f"The provided key element does not match the schema ({parameter} is empty)")
    item.attributes.update(key)
    if schema is None:
        item.unknown_keys = True
        return
    if schema.partition not in key:
        raise validation("The provided key element does not match the schema")
    item.leading.append(scalar(key[schema.partition], what=f"the value of {schema.partition}"))


def _expressions(item: _Item, params: Mapping[str, Any], *parameters: str) -> None:
    """The names in each expression given, and in the legacy parameters' maps."""
    names = _map(params.get("ExpressionAttributeNames"), "ExpressionAttributeNames")
    for parameter in parameters:
        if params.get(parameter) is not None:
            item.attributes |= attribute_names(params[parameter], names, parameter=parameter)
    for legacy in ("Expected", "AttributeUpdates", "QueryFilter", "ScanFilter", "KeyConditions"):
        item.attributes.update(_map(params.get(legacy), legacy))
    to_get = params.get("AttributesToGet")
    if to_get is not None:
        if not isinstance(to_get, list) or not all(isinstance(n, str) for n in to_get):
            raise validation("Invalid AttributesToGet: it must be a list of attribute names")
        item.attributes.update(to_get)


def _projected(params: Mapping[str, Any]) -> bool:
    return params.get("ProjectionExpression") is not None or params.get("AttributesToGet") is not None


def _select(params: Mapping[str, Any], *, index: bool) -> str:
    given = params.get("Select")
    if given is not None:
        if not isinstance(given, str) or given not in _SELECTS:
            raise validation(f"Invalid Select: {str(given)[:40]!r} is not one of {', '.join(sorted(_SELECTS))}")
        return given
    if _projected(params):
        return "SPECIFIC_ATTRIBUTES"
    return "ALL_PROJECTED_ATTRIBUTES" if index else "ALL_ATTRIBUTES"


def _return_values(params: Mapping[str, Any]) -> str:
    given = params.get("ReturnValues", "NONE")
    if not isinstance(given, str) or given not in _RETURN_VALUES:
        raise validation(f"Invalid ReturnValues: {str(given)[:40]!r} is not one of {', '.join(sorted(_RETURN_VALUES))}")
    return given


def _context(item: _Item, params: Mapping[str, Any], **extra: str) -> dict[str, Any]:
    context: dict[str, Any] = {
        LEADING_KEYS: UNKNOWN if item.unknown_keys else list(dict.fromkeys(item.leading)),
        ATTRIBUTES: sorted(item.attributes),
    }
    if isinstance(params.get("ReturnConsumedCapacity"), str):
        context[RETURN_CONSUMED] = params["ReturnConsumedCapacity"]
    context.update({f"dynamodb:{k.lower()}": v for k, v in extra.items()})
    return context


def needs(operation: str, params: Mapping[str, Any], *, region: str, schema_of: SchemaLookup) -> list[Need]:
    """Every permission the request needs; all must be allowed. Raises
    ValidationException for a request whose items cannot be named."""
    action = f"dynamodb:{operation}"
    if operation in _ACCOUNT_OPERATIONS:
        return [Need(action, "*")]
    if operation in _TAG_OPERATIONS:
        return [Need(action, _tagged_table(params, region))]
    if operation in _TABLE_OPERATIONS:
        return [Need(action, table_arn(region, _name(params.get("TableName"), "tableName")))]
    single = _SINGLE.get(operation)
    if single is not None:
        table = _name(params.get("TableName"), "tableName")
        return [single(params, region, table, schema_of(region, table))]
    if operation == "BatchGetItem":
        return list(_batch_get(params, region, schema_of))
    if operation == "BatchWriteItem":
        return list(_batch_write(params, region, schema_of))
    if operation in ("TransactGetItems", "TransactWriteItems"):
        return list(_transact(operation, params, region, schema_of))
    raise AwsError("UnknownOperationException", f"The sandbox does not serve DynamoDB's {operation[:64]}.", 400)


def _tagged_table(params: Mapping[str, Any], region: str) -> str:
    arn = params.get("ResourceArn")
    prefix = table_arn(region, "")
    if not isinstance(arn, str) or not arn.startswith(prefix):
        raise validation("Invalid ResourceArn: it must name a table of this account and region")
    _name(arn[len(prefix):].split("/", 1)[0], "resourceArn")
    return arn


# --- one item, one table ----------------------------------------------------------------


def _get_item(params: Mapping[str, Any], region: str, table: str, schema: KeySchema | None) -> Need:
    item = _Item()
    _key(item, params.get("Key"), schema, parameter="Key")
    _expressions(item, params, "ProjectionExpression")
    return Need("dynamodb:GetItem", table_arn(region, table), _context(item, params, Select=_select(params, index=False)))


def _put_item(params: Mapping[str, Any], region: str, table: str, schema: KeySchema | None) -> Need:
    item = _Item()
    _key(item, params.get("Item"), schema, parameter="Item")
    _expressions(item, params, "ConditionExpression")
    return Need("dynamodb:PutItem", table_arn(region, table), _context(item, params, ReturnValues=_return_values(params)))


def _update_item(params: Mapping[str, Any], region: str, table: str, schema: KeySchema | None) -> Need:
    item = _Item()
    _key(item, params.get("Key"), schema, parameter="Key")
    _keys_kept(params, schema)
    _expressions(item, params, "UpdateExpression", "ConditionExpression")
    return Need("dynamodb:UpdateItem", table_arn(region, table), _context(item, params, ReturnValues=_return_values(params)))


def _keys_kept(params: Mapping[str, Any], schema: KeySchema | None) -> None:
    """An update may not change the item's key, as DynamoDB says; moto's
    legacy `AttributeUpdates` would rewrite the partition key itself, moving
    the item out of the partition that was authorized."""
    if schema is None:
        return
    for name in _map(params.get("AttributeUpdates"), "AttributeUpdates"):
        if name in (schema.partition, schema.sort):
            raise validation(f"One or more parameter values were invalid: Cannot update attribute {name}. This attribute is part of the key")


def _delete_item(params: Mapping[str, Any], region: str, table: str, schema: KeySchema | None) -> Need:
    item = _Item()
    _key(item, params.get("Key"), schema, parameter="Key")
    _expressions(item, params, "ConditionExpression")
    return Need("dynamodb:DeleteItem", table_arn(region, table), _context(item, params, ReturnValues=_return_values(params)))


def _index(params: Mapping[str, Any], region: str, table: str, schema: KeySchema | None) -> tuple[str, str | None]:
    """The resource a Query or Scan reads (the index's ARN with `IndexName`),
    and the partition key of what it reads (None when there is no such table)."""
    index = params.get("IndexName")
    if index is None:
        return table_arn(region, table), schema.partition if schema is not None else None
    _name(index, "indexName")
    if schema is not None and index not in schema.indexes:
        raise validation(f"The table does not have the specified index: {index}")
    return f"{table_arn(region, table)}/index/{index}", schema.indexes[index] if schema is not None else None


def _query(params: Mapping[str, Any], region: str, table: str, schema: KeySchema | None) -> Need:
    resource, partition = _index(params, region, table, schema)
    item = _Item(unknown_keys=schema is None)
    expression, legacy = params.get("KeyConditionExpression"), params.get("KeyConditions")
    if (expression is None) == (legacy is None):
        raise validation("Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.")
    names = _map(params.get("ExpressionAttributeNames"), "ExpressionAttributeNames")
    values = _map(params.get("ExpressionAttributeValues"), "ExpressionAttributeValues")
    if partition is not None:
        if expression is not None:
            item.leading.append(key_condition_partition(expression, names, values, partition_key=partition))
        else:
            item.leading.append(_legacy_partition(_map(legacy, "KeyConditions"), partition))
    _expressions(item, params, "KeyConditionExpression", "ProjectionExpression", "FilterExpression")
    select = _select(params, index="IndexName" in params)
    return Need("dynamodb:Query", resource, _context(item, params, Select=select))


def _legacy_partition(conditions: Mapping[str, Any], partition: str) -> str:
    condition = _map(conditions.get(partition), "KeyConditions")
    values = condition.get("AttributeValueList")
    if condition.get("ComparisonOperator") != "EQ" or not isinstance(values, list) or len(values) != 1:
        raise validation(f"Query condition missed key schema element: {partition}")
    return scalar(values[0], what=f"the value of {partition}")


def _scan(params: Mapping[str, Any], region: str, table: str, schema: KeySchema | None) -> Need:
    resource, _ = _index(params, region, table, schema)
    item = _Item()  # a Scan names no partition: LeadingKeys has no value
    _expressions(item, params, "ProjectionExpression", "FilterExpression")
    return Need("dynamodb:Scan", resource, _context(item, params, Select=_select(params, index="IndexName" in params)))


_SINGLE: dict[str, Callable[[Mapping[str, Any], str, str, KeySchema | None], Need]] = {
    "GetItem": _get_item,
    "PutItem": _put_item,
    "UpdateItem": _update_item,
    "DeleteItem": _delete_item,
    "Query": _query,
    "Scan": _scan,
}


# --- batches and transactions ------------------------------------------------------------


def _request_items(params: Mapping[str, Any]) -> Mapping[str, Any]:
    items = _map(params.get("RequestItems"), "RequestItems")
    if not items:
        raise validation("1 validation error detected: Value at 'requestItems' failed to satisfy constraint: Member must have length greater than or equal to 1")
    return items


def _batch_get(params: Mapping[str, Any], region: str, schema_of: SchemaLookup) -> Iterable[Need]:
    count = 0
    for table, entry in _request_items(params).items():
        _name(table, "requestItems.key")
        schema, item, entry = schema_of(region, table), _Item(), _map(entry, f"RequestItems.{table}")
        keys = entry.get("Keys")
        if not isinstance(keys, list) or not keys:
            raise validation(f"Invalid RequestItems.{table}.Keys: it must be a list of 1 to {MAX_BATCH_ITEMS} keys")
        count += len(keys)
        if count > MAX_BATCH_ITEMS:
            raise validation(f"Too many items requested for the BatchGetItem call (more than {MAX_BATCH_ITEMS})")
        for key in keys:
            _key(item, key, schema, parameter=f"RequestItems.{table}.Keys")
        _expressions(item, entry, "ProjectionExpression")
        select = "SPECIFIC_ATTRIBUTES" if _projected(entry) else "ALL_ATTRIBUTES"
        yield Need("dynamodb:BatchGetItem", table_arn(region, table), _context(item, entry, Select=select))


def _batch_write(params: Mapping[str, Any], region: str, schema_of: SchemaLookup) -> Iterable[Need]:
    count = 0
    for table, requests in _request_items(params).items():
        _name(table, "requestItems.key")
        schema, item = schema_of(region, table), _Item()
        if not isinstance(requests, list) or not requests:
            raise validation(f"Invalid RequestItems.{table}: it must be a list of 1 to {MAX_BATCH_WRITES} requests")
        count += len(requests)
        if count > MAX_BATCH_WRITES:
            raise validation(f"Too many items requested for the BatchWriteItem call (more than {MAX_BATCH_WRITES})")
        for request in requests:
            request = _map(request, f"RequestItems.{table}[]")
            if set(request) == {"PutRequest"}:
                _key(item, _map(request["PutRequest"], "PutRequest").get("Item"), schema, parameter="PutRequest.Item")
            elif set(request) == {"DeleteRequest"}:
                _key(item, _map(request["DeleteRequest"], "DeleteRequest").get("Key"), schema, parameter="DeleteRequest.Key")
            else:
                raise validation("Invalid WriteRequest: it must hold exactly one of PutRequest and DeleteRequest")
        yield Need("dynamodb:BatchWriteItem", table_arn(region, table), _context(item, {}))


# A transaction's entry kind -> (its action, the parameter naming its item, its expressions)
_TRANSACT_WRITES = {
    "Put": ("dynamodb:PutItem", "Item", ("ConditionExpression",)),
    "Update": ("dynamodb:UpdateItem", "Key", ("UpdateExpression", "ConditionExpression")),
    "Delete": ("dynamodb:DeleteItem", "Key", ("ConditionExpression",)),
    "ConditionCheck": ("dynamodb:ConditionCheckItem", "Key", ("ConditionExpression",)),
}
_TRANSACT_GETS = {"Get": ("dynamodb:GetItem", "Key", ("ProjectionExpression",))}


def _transact(operation: str, params: Mapping[str, Any], region: str, schema_of: SchemaLookup) -> Iterable[Need]:
    kinds = _TRANSACT_GETS if operation == "TransactGetItems" else _TRANSACT_WRITES
    entries = params.get("TransactItems")
    if not isinstance(entries, list) or not 1 <= len(entries) <= MAX_BATCH_ITEMS:
        raise validation(f"Invalid TransactItems: it must be a list of 1 to {MAX_BATCH_ITEMS} entries")
    for entry in entries:
        entry = _map(entry, "TransactItems[]")
        if len(entry) != 1 or next(iter(entry)) not in kinds:
            raise validation(f"Invalid TransactItems entry: it must hold exactly one of {', '.join(kinds)}")
        kind, body = next(iter(entry.items()))
        body = _map(body, kind)
        action, key_parameter, expressions = kinds[kind]
        table = _name(body.get("TableName"), "tableName")
        item = _Item()
        _key(item, body.get(key_parameter), schema_of(region, table), parameter=f"{kind}.{key_parameter}")
        _expressions(item, body, *expressions)
        extra = {"EnclosingOperation": operation}
        if kind == "Get":
            extra["Select"] = "SPECIFIC_ATTRIBUTES" if _projected(body) else "ALL_ATTRIBUTES"
        yield Need(action, table_arn(region, table), _context(item, body, **extra))
