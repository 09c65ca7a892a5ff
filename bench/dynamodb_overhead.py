"""What the gateway costs a DynamoDB read: GetItem per second, in one run,
on three sides:

- identity: alice's identity-pool credentials through the gateway, under the
  albums policy (`ForAllValues:StringEquals dynamodb:LeadingKeys`): the
  signature, the session, the key schema read and the policy checked on
  every request, the decision and the trail kept;
- admin: the admin key through the gateway (no IAM check);
- moto: moto's own server, straight, with no gateway at all.

All three run in this process on loopback ports and share moto's state, so
they read the same item. Rounds rotate the order of the sides, so warm
caches, GC and a busy machine weigh on all alike. Prints the rates and the
ratios identity/moto (what the whole gateway costs) and identity/admin
(what IAM costs).

    .venv/bin/python bench/dynamodb_overhead.py [--rounds 6] [--gets 200]"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import statistics
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from moto.server import ThreadedMotoServer  # noqa: E402

from sandbox.server import free_port, running  # noqa: E402  (needs REPO on sys.path)
from tests.sandbox_kit import ACCOUNT_ID, REGION, SandboxKit  # noqa: E402

WARMUP = 50  # gets per side before timing
SIDES = ("identity", "admin", "moto")
SUB = "${cognito-identity.amazonaws.com:sub}"


def get_rate(client: Any, table: str, key: dict[str, Any], gets: int) -> tuple[int, float]:
    """`gets` GetItem calls; returns (gets, seconds)."""
    start = time.perf_counter()
    for _ in range(gets):
        client.get_item(TableName=table, Key=key)
    return gets, time.perf_counter() - start


def _albums_table(kit: SandboxKit, table: str) -> None:
    kit.client("dynamodb").create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "identityId", "KeyType": "HASH"}, {"AttributeName": "albumId", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": "identityId", "AttributeType": "S"}, {"AttributeName": "albumId", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )


def _grant(kit: SandboxKit, role_arn: str, table: str) -> None:
    statement = {
        "Effect": "Allow",
        "Action": ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"],
        "Resource": f"arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/{table}",
        "Condition": {"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": [SUB]}},
    }
    kit.client("iam").put_role_policy(
        RoleName=role_arn.rsplit("/", 1)[1], PolicyName="albums",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [statement]}),
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=6, help="timed rounds per side (default 6)")
    parser.add_argument("--gets", type=int, default=200, help="GetItem calls per side per round (default 200)")
    args = parser.parse_args()
    if args.rounds < 1 or args.gets < 1:
        parser.error("--rounds and --gets must be at least 1")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no per-request log lines in the timing

    with contextlib.ExitStack() as stack:
        gateway = stack.enter_context(running())
        if not gateway.endpoint.startswith("http://127.0.0.1:"):
            raise SystemExit(f"expected a loopback endpoint, got {gateway.endpoint}")
        moto_port = free_port()
        moto = ThreadedMotoServer(ip_address="127.0.0.1", port=moto_port, verbose=False)
        moto.start()
        stack.callback(moto.stop)
        kit, direct = SandboxKit(endpoint=gateway.endpoint), SandboxKit(endpoint=f"http://127.0.0.1:{moto_port}")
        dep = kit.deployment(users=("alice",))
        table = f"{dep.suffix}-albums"
        _albums_table(kit, table)
        _grant(kit, dep.roles["authenticated"], table)
        identity_id, credentials = dep.user_credentials("alice")
        key = {"identityId": {"S": identity_id}, "albumId": {"S": "a1"}}
        kit.client("dynamodb").put_item(TableName=table, Item={**key, "title": {"S": "Holidays"}})
        sides = {
            "identity": kit.client("dynamodb", credentials),
            "admin": kit.client("dynamodb"),
            "moto": direct.client("dynamodb"),
        }
        for client in sides.values():
            get_rate(client, table, key, WARMUP)

        totals = {name: [0, 0.0] for name in sides}
        ratios: dict[str, list[float]] = {"identity/moto": [], "identity/admin": []}
        print(f"gateway {gateway.endpoint}, moto 127.0.0.1:{moto_port}: {args.rounds} rounds x {args.gets} GetItem per side")
        print(f"{'round':>5}  {'identity/s':>10}  {'admin/s':>7}  {'moto/s':>7}  {'id/moto':>7}  {'id/admin':>8}")
        for round_no in range(args.rounds):
            order = SIDES[round_no % 3:] + SIDES[: round_no % 3]
            rates = {}
            for name in order:
                gets, seconds = get_rate(sides[name], table, key, args.gets)
                totals[name][0] += gets
                totals[name][1] += seconds
                rates[name] = gets / seconds
            ratios["identity/moto"].append(rates["identity"] / rates["moto"])
            ratios["identity/admin"].append(rates["identity"] / rates["admin"])
            print(
                f"{round_no + 1:>5}  {rates['identity']:>10.1f}  {rates['admin']:>7.1f}  {rates['moto']:>7.1f}"
                f"  {ratios['identity/moto'][-1]:>7.2f}  {ratios['identity/admin'][-1]:>8.2f}"
            )

    rate = {name: totals[name][0] / totals[name][1] for name in sides}
    print(f"identity credentials through the gateway: {rate['identity']:.1f} gets/s")
    print(f"admin key through the gateway:            {rate['admin']:.1f} gets/s")
    print(f"moto's own server, no gateway:            {rate['moto']:.1f} gets/s")
    print(f"ratio identity/moto:  {rate['identity'] / rate['moto']:.2f} "
          f"(median of rounds {statistics.median(ratios['identity/moto']):.2f})")
    print(f"ratio identity/admin: {rate['identity'] / rate['admin']:.2f} "
          f"(median of rounds {statistics.median(ratios['identity/admin']):.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
