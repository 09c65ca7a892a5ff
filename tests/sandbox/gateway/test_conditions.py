"""Date, IP and the other global condition keys, through real requests:
Alice's identity-pool credentials under a role holding one policy per case,
then one S3 request, allowed or refused with S3's `AccessDenied` as AWS
would. The keys are the ones the gateway fills for every signed request
(`sandbox/gateway/authentication.py`): `aws:CurrentTime`, `aws:EpochTime`,
`aws:TokenIssueTime`, `aws:SourceIp` (the test client is loopback),
`aws:SecureTransport` (plain HTTP), `aws:PrincipalArn`,
`aws:PrincipalAccount`, `aws:RequestedRegion`. See the IAM user guide,
"Condition operators" and "AWS global condition context keys"."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.sandbox.gateway.test_authorization import (
    ALLOWED,
    CASE,
    S3_DENIED,
    allow,
    base,  # noqa: F401  (the module's deployment fixture)
    deny,
    get,
    s3_outcome,
    sign_in_under,
)
from tests.sandbox_kit import ACCOUNT_ID, REGION

PAST = "2020-01-01T00:00:00Z"
FUTURE = "2100-01-01T00:00:00Z"
PAST_EPOCH, FUTURE_EPOCH = "1577836800", "4102444800"  # the same two instants


# An hour from when the tests were collected: after any session they sign in for.
SOON = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")


def get_if(condition: dict) -> list[dict]:
    """Allow GetObject under the case's prefix, on one condition block."""
    return [allow("s3:GetObject", f"{CASE}/*", condition)]


CASES = [
    # Date: the "a DateLessThan in the past denies"
    pytest.param(get_if({"DateLessThan": {"aws:CurrentTime": PAST}}), False, id="date-less-than-past-denies"),
    pytest.param(get_if({"DateLessThan": {"aws:CurrentTime": FUTURE}}), True, id="date-less-than-future-allows"),
    pytest.param(get_if({"DateGreaterThan": {"aws:CurrentTime": PAST}, "DateLessThan": {"aws:CurrentTime": FUTURE}}), True,
                 id="date-window-allows"),
    pytest.param(get_if({"DateGreaterThan": {"aws:CurrentTime": FUTURE}}), False, id="date-greater-than-future-denies"),
    pytest.param(get_if({"DateLessThan": {"aws:EpochTime": FUTURE_EPOCH}}), True, id="epoch-time-epoch-value"),
    pytest.param(get_if({"DateLessThan": {"aws:EpochTime": PAST}}), False, id="epoch-time-iso-value"),
    pytest.param(get_if({"DateGreaterThan": {"aws:CurrentTime": PAST_EPOCH}}), True, id="current-time-epoch-value"),
    pytest.param(get_if({"DateNotEquals": {"aws:CurrentTime": PAST}}), True, id="date-not-equals"),
    pytest.param(get_if({"DateLessThanIfExists": {"aws:CurrentTime": PAST}}), False, id="date-if-exists-present"),
    # aws:TokenIssueTime: the session was issued just now
    pytest.param(get_if({"DateGreaterThan": {"aws:TokenIssueTime": PAST}, "DateLessThan": {"aws:TokenIssueTime": FUTURE}}),
                 True, id="token-issue-time-window"),
    pytest.param(get_if({"DateGreaterThan": {"aws:TokenIssueTime": SOON}}), False, id="token-issued-before-soon"),
    pytest.param(get_if({"Null": {"aws:TokenIssueTime": "false"}}), True, id="token-issue-time-present"),
    # IpAddress: the "an IpAddress condition for another range denies", and loopback allows
    pytest.param(get_if({"IpAddress": {"aws:SourceIp": "192.0.2.0/24"}}), False, id="ip-another-range-denies"),
    pytest.param(get_if({"IpAddress": {"aws:SourceIp": "127.0.0.0/8"}}), True, id="ip-loopback-allows"),
    pytest.param(get_if({"IpAddress": {"aws:SourceIp": ["192.0.2.0/24", "127.0.0.1/32"]}}), True, id="ip-one-of-two"),
    pytest.param(get_if({"IpAddress": {"aws:SourceIp": "2001:db8::/32"}}), False, id="ip-v6-range-denies-v4-client"),
    pytest.param(get_if({"NotIpAddress": {"aws:SourceIp": "192.0.2.0/24"}}), True, id="not-ip-another-range"),
    pytest.param(get_if({"NotIpAddress": {"aws:SourceIp": "127.0.0.0/8"}}), False, id="not-ip-loopback"),
    pytest.param([*get_if({}), deny("s3:*", "*", {"NotIpAddress": {"aws:SourceIp": ["127.0.0.0/8", "::1/128"]}})], True,
                 id="deny-outside-loopback-spares-loopback"),
    pytest.param([*get_if({}), deny("s3:*", "*", {"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}})], False,
                 id="deny-outside-office-denies"),
    pytest.param(get_if({"ForAnyValue:IpAddress": {"aws:SourceIp": "127.0.0.0/8"}}), True, id="ip-for-any-value"),
    # The other global keys
    pytest.param(get_if({"Bool": {"aws:SecureTransport": "false"}}), True, id="secure-transport-false"),
    pytest.param([*get_if({}), deny("s3:*", "*", {"Bool": {"aws:SecureTransport": "false"}})], False, id="deny-plain-http"),
    pytest.param(get_if({"ArnEquals": {"aws:PrincipalArn": "<ROLE>"}}), True, id="principal-arn"),
    pytest.param(get_if({"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/someone-else"}}), False, id="principal-arn-other"),
    pytest.param(get_if({"StringEquals": {"aws:PrincipalAccount": ACCOUNT_ID}}), True, id="principal-account"),
    pytest.param(get_if({"StringEquals": {"aws:PrincipalAccount": "210987654321"}}), False, id="principal-account-other"),
    pytest.param(get_if({"StringEquals": {"aws:RequestedRegion": REGION}}), True, id="requested-region"),
    pytest.param(get_if({"StringEquals": {"aws:RequestedRegion": "eu-west-1"}}), False, id="requested-region-other"),
    # An operator the evaluator does not know: the Allow does not apply (fails closed)
    pytest.param(get_if({"BinaryEquals": {"aws:SourceIp": "AAAA"}}), False, id="unknown-operator-does-not-allow"),
]


@pytest.mark.parametrize("statements, allowed", CASES)
def test_condition_on_a_real_request(base, statements: list[dict], allowed: bool) -> None:  # noqa: F811
    """One inline policy, one GetObject by Alice: allowed, or S3's AccessDenied 403."""
    signed = sign_in_under(base, inline=[statements])
    assert s3_outcome(signed, get("<CASE>/a.jpg")) == (ALLOWED if allowed else S3_DENIED)
