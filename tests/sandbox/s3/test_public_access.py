"""Which bucket policies S3 calls public: a grant to everyone, unless a
condition pins it to fixed values of a key naming who or where the caller is.
https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html#access-control-block-public-access-policy-status"""

from __future__ import annotations

import json

import pytest

from sandbox.s3.public_access import policy_is_public

RESOURCE = "arn:aws:s3:::photos/*"


def _policy(principal="*", *, effect="Allow", condition=None, not_principal=None) -> str:
    statement = {"Effect": effect, "Action": "s3:GetObject", "Resource": RESOURCE}
    if not_principal is not None:
        statement["NotPrincipal"] = not_principal
    else:
        statement["Principal"] = principal
    if condition is not None:
        statement["Condition"] = condition
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


CASES = [
    # policy, public
    pytest.param(_policy("*"), True, id="star"),
    pytest.param(_policy({"AWS": "*"}), True, id="aws-star"),
    pytest.param(_policy({"AWS": ["arn:aws:iam::123456789012:root", "*"]}), True, id="star-in-list"),
    pytest.param(_policy({"AWS": "arn:aws:iam::123456789012:role/photos"}), False, id="fixed-role"),
    pytest.param(_policy({"AWS": "123456789012"}), False, id="fixed-account"),
    pytest.param(_policy(not_principal={"AWS": "arn:aws:iam::123456789012:role/photos"}), True, id="not-principal"),
    pytest.param(_policy("*", effect="Deny"), False, id="deny-to-everyone"),
    pytest.param(_policy("*", condition={"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}), False, id="narrow-source-ip"),
    pytest.param(_policy("*", condition={"IpAddress": {"aws:SourceIp": ["10.0.0.0/8", "2001:db8::/32"]}}), False, id="widest-still-narrow"),
    pytest.param(_policy("*", condition={"IpAddress": {"aws:SourceIp": "0.0.0.0/1"}}), True, id="wide-source-ip"),
    pytest.param(_policy("*", condition={"IpAddress": {"aws:SourceIp": "2001:db8::/16"}}), True, id="wide-ipv6"),
    pytest.param(_policy("*", condition={"NotIpAddress": {"aws:SourceIp": "203.0.113.0/24"}}), True, id="negated-source-ip"),
    pytest.param(_policy("*", condition={"StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}}), False, id="fixed-vpce"),
    pytest.param(_policy("*", condition={"StringLike": {"aws:SourceVpc": "vpc-*"}}), True, id="wildcard-vpc"),
    pytest.param(_policy("*", condition={"StringEquals": {"aws:PrincipalAccount": "123456789012"}}), False, id="fixed-principal-account"),
    pytest.param(_policy("*", condition={"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}}), False, id="fixed-org"),
    pytest.param(_policy("*", condition={"StringEquals": {"aws:SourceAccount": "${aws:PrincipalAccount}"}}), True, id="variable-is-not-fixed"),
    pytest.param(_policy("*", condition={"ArnEquals": {"aws:SourceArn": "arn:aws:cloudfront::123456789012:distribution/E1"}}), False, id="fixed-source-arn"),
    pytest.param(_policy("*", condition={"StringEqualsIfExists": {"aws:SourceVpce": "vpce-1a2b3c4d"}}), True, id="if-exists-pins-nothing"),
    pytest.param(_policy("*", condition={"ForAllValues:StringEquals": {"aws:PrincipalOrgID": "o-abc123"}}), True, id="for-all-values-pins-nothing"),
    pytest.param(_policy("*", condition={"StringEquals": {"s3:prefix": "public/"}}), True, id="other-key-pins-nothing"),
    pytest.param(_policy("*", condition={"Bool": {"aws:SecureTransport": "true"}}), True, id="transport-pins-nothing"),
    pytest.param("not json", False, id="unreadable"),
]


@pytest.mark.parametrize("policy, public", CASES)
def test_policy_is_public(policy: str, public: bool) -> None:
    """A policy is public exactly when S3's definition says so."""
    assert policy_is_public(policy) is public
