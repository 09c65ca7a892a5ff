"""Condition operators, one table row per case, as the IAM user guide's
"IAM JSON policy elements: Condition operators" describes them. Pure
functions: no sandbox."""

from __future__ import annotations

import logging

import pytest

from iampolicy import NotUnderstood
from iampolicy.conditions import UNKNOWN, condition_holds, conditions_hold

SUB = "cognito-identity.amazonaws.com:sub"
AMR = "cognito-identity.amazonaws.com:amr"
ME = "us-east-1:0000aaaa-0000-4000-8000-000000000001"
CONTEXT = {
    SUB: ME,
    AMR: ["authenticated", "cognito-idp.us-east-1.amazonaws.com/pool"],
    "s3:prefix": f"private/{ME}/",
    "s3:max-keys": "100",
    "aws:securetransport": "false",
    "aws:principalarn": "arn:aws:iam::123456789012:role/photoshare-authenticated",
    "aws:currenttime": "2026-06-15T12:00:00Z",
    "aws:epochtime": "1781524800",  # the same instant
    "aws:sourceip": "203.0.113.7",
    "v6": "2001:db8::7",
    "mapped": "::ffff:127.0.0.1",  # how a dual-stack listener reports an IPv4 client
    "sources": ["203.0.113.7", "198.51.100.1"],
    "empty": [],
}


@pytest.mark.parametrize(
    "operator, key, values, holds",
    [
        # String, with policy variables in the value
        ("StringEquals", SUB, [ME], True),
        ("StringEquals", SUB, [ME.upper()], False),
        ("StringEquals", "s3:prefix", ["private/${cognito-identity.amazonaws.com:sub}/"], True),
        ("StringEquals", "s3:prefix", ["private/${aws:username}/"], False),  # variable without a value
        ("StringNotEquals", SUB, ["someone-else"], True),
        ("StringNotEquals", SUB, [ME], False),
        ("StringEqualsIgnoreCase", SUB, [ME.upper()], True),
        ("StringNotEqualsIgnoreCase", SUB, [ME.upper()], False),
        ("StringLike", "s3:prefix", ["private/${cognito-identity.amazonaws.com:sub}/*"], True),
        ("StringLike", "s3:prefix", ["public/*"], False),
        ("StringLike", "s3:prefix", ["public/*", "private/*"], True),  # listed values are alternatives
        ("StringNotLike", "s3:prefix", ["public/*"], True),
        ("StringNotLike", "s3:prefix", ["private/*"], False),
        # Arn
        ("ArnLike", "aws:principalarn", ["arn:aws:iam::*:role/photoshare-*"], True),
        ("ArnEquals", "aws:principalarn", ["arn:aws:iam::123456789012:role/photoshare-authenticated"], True),
        ("ArnNotLike", "aws:principalarn", ["arn:aws:iam::*:role/other"], True),
        ("ArnNotEquals", "aws:principalarn", ["arn:aws:iam::123456789012:role/photoshare-authenticated"], False),
        # Numeric
        ("NumericEquals", "s3:max-keys", ["100"], True),
        ("NumericNotEquals", "s3:max-keys", ["100"], False),
        ("NumericLessThan", "s3:max-keys", ["101"], True),
        ("NumericLessThan", "s3:max-keys", ["100"], False),
        ("NumericLessThanEquals", "s3:max-keys", ["100"], True),
        ("NumericGreaterThan", "s3:max-keys", ["99"], True),
        ("NumericGreaterThanEquals", "s3:max-keys", ["101"], False),
        ("NumericEquals", "s3:prefix", ["1"], False),  # not a number: false, not an error
        # Bool
        ("Bool", "aws:securetransport", ["false"], True),
        ("Bool", "aws:securetransport", ["true"], False),
        # Null: is the key absent?
        ("Null", "s3:delimiter", ["true"], True),
        ("Null", "s3:prefix", ["true"], False),
        ("Null", "s3:prefix", ["false"], True),
    ],
)
def test_operator(operator, key, values, holds):
    """Each operator family on a key the request carries."""
    assert condition_holds(operator, key, values, CONTEXT) is holds


@pytest.mark.parametrize(
    "operator, holds",
    [
        ("StringEquals", False),  # a missing key fails a positive operator...
        ("StringLike", False),
        ("NumericLessThan", False),
        ("Bool", False),
        ("StringNotEquals", True),  # ...and satisfies a negated one
        ("StringNotLike", True),
        ("ArnNotLike", True),
        ("StringEqualsIfExists", True),  # IfExists: no key, no test
        ("StringLikeIfExists", True),
        ("ForAllValues:StringEquals", True),  # vacuously true: AWS's trap for ForAllValues
        ("ForAnyValue:StringEquals", False),
    ],
)
def test_missing_key(operator, holds):
    """A condition on a key the request does not carry."""
    assert condition_holds(operator, "s3:delimiter", ["/"], CONTEXT) is holds


def test_if_exists_still_tests_a_present_key():
    """...IfExists only changes the answer when the key is absent."""
    assert condition_holds("StringEqualsIfExists", SUB, ["someone-else"], CONTEXT) is False
    assert condition_holds("StringEqualsIfExists", SUB, [ME], CONTEXT) is True


@pytest.mark.parametrize(
    "operator, values, holds",
    [
        ("ForAnyValue:StringLike", ["authenticated"], True),  # one of the amr values matches
        ("ForAnyValue:StringLike", ["unauthenticated"], False),
        ("ForAllValues:StringLike", ["authenticated"], False),  # the provider value does not
        ("ForAllValues:StringLike", ["authenticated", "cognito-idp.*"], True),
        ("StringLike", ["cognito-idp.*"], True),  # no qualifier, positive: any value
        ("StringNotLike", ["unauthenticated"], True),  # no qualifier, negated: every value
        ("StringNotLike", ["authenticated"], False),
    ],
)
def test_multivalued_key(operator, values, holds):
    """ForAnyValue / ForAllValues over the multi-valued amr key."""
    assert condition_holds(operator, AMR, values, CONTEXT) is holds


def test_empty_multivalued_key_counts_as_missing():
    """An empty list of values is the same as no key."""
    assert condition_holds("ForAnyValue:StringEquals", "empty", ["x"], CONTEXT) is False
    assert condition_holds("ForAllValues:StringEquals", "empty", ["x"], CONTEXT) is True


@pytest.mark.parametrize(
    "operator, key, values, holds",
    [
        # Date: W3C ISO 8601 forms and epoch seconds, on either side, compared as instants
        ("DateEquals", "aws:currenttime", ["2026-06-15T12:00:00Z"], True),
        ("DateEquals", "aws:currenttime", ["2026-06-15T14:00:00+02:00"], True),  # same instant, another zone
        ("DateEquals", "aws:currenttime", ["2026-06-15T12:00Z"], True),  # to the minute
        ("DateEquals", "aws:currenttime", ["2026-06-15T12:00:00.000Z"], True),
        ("DateEquals", "aws:currenttime", ["1781524800"], True),  # epoch against ISO
        ("DateEquals", "aws:epochtime", ["2026-06-15T12:00:00Z"], True),  # ISO against epoch
        ("DateEquals", "aws:currenttime", ["2026-06-15T12:00:01Z"], False),
        ("DateNotEquals", "aws:currenttime", ["2026-06-15T12:00:01Z"], True),
        ("DateNotEquals", "aws:currenttime", ["2026-06-15T12:00:00Z"], False),
        ("DateLessThan", "aws:currenttime", ["2020-01-01T00:00:00Z"], False),  # a deadline in the past
        ("DateLessThan", "aws:currenttime", ["2030-01-01"], True),  # a date alone is its midnight UTC
        ("DateLessThan", "aws:currenttime", ["2026-06-15T12:00:00Z"], False),
        ("DateLessThanEquals", "aws:currenttime", ["2026-06-15T12:00:00Z"], True),
        ("DateGreaterThan", "aws:currenttime", ["2026-06"], True),  # year and month
        ("DateGreaterThan", "aws:epochtime", ["1781524799"], True),
        ("DateGreaterThan", "aws:currenttime", ["2026-06-15T12:00:00Z"], False),
        ("DateGreaterThanEquals", "aws:currenttime", ["2026-06-15T12:00:00Z"], True),
        ("DateGreaterThanEquals", "aws:currenttime", ["2030-01-01T00:00:00Z"], False),
        ("DateLessThan", "aws:currenttime", ["2020-01-01T00:00:00Z", "2030-01-01T00:00:00Z"], True),  # alternatives
        ("DateLessThanIfExists", "aws:currenttime", ["2020-01-01T00:00:00Z"], False),  # present: tested
        # IpAddress: IPv4 and IPv6 CIDR, a bare address is a /32 or /128
        ("IpAddress", "aws:sourceip", ["203.0.113.0/24"], True),
        ("IpAddress", "aws:sourceip", ["203.0.113.7"], True),
        ("IpAddress", "aws:sourceip", ["203.0.113.8"], False),
        ("IpAddress", "aws:sourceip", ["203.0.113.9/24"], True),  # host bits set: the block it names
        ("IpAddress", "aws:sourceip", ["10.0.0.0/8"], False),
        ("IpAddress", "aws:sourceip", ["10.0.0.0/8", "203.0.0.0/8"], True),
        ("IpAddress", "aws:sourceip", ["::/0"], False),  # an IPv4 client is in no IPv6 block
        ("IpAddress", "v6", ["2001:db8::/32"], True),
        ("IpAddress", "v6", ["2001:DB8:0:0::/64"], True),
        ("IpAddress", "v6", ["2001:db9::/32"], False),
        ("IpAddress", "v6", ["0.0.0.0/0"], False),
        ("IpAddress", "mapped", ["127.0.0.0/8"], True),
        ("NotIpAddress", "aws:sourceip", ["10.0.0.0/8"], True),
        ("NotIpAddress", "aws:sourceip", ["203.0.113.0/24"], False),
        ("NotIpAddress", "v6", ["2001:db8::/32"], False),
        ("ForAnyValue:IpAddress", "sources", ["198.51.100.0/24"], True),
        ("ForAllValues:IpAddress", "sources", ["198.51.100.0/24"], False),
        ("ForAllValues:IpAddress", "sources", ["198.51.100.0/24", "203.0.113.0/24"], True),
        ("ForAnyValue:DateLessThan", "aws:currenttime", ["2030-01-01T00:00:00Z"], True),
        ("Null", "aws:sourceip", ["false"], True),
    ],
)
def test_date_and_ip_operators(operator, key, values, holds):
    """Date and IP operators on keys the request carries."""
    assert condition_holds(operator, key, values, CONTEXT) is holds


@pytest.mark.parametrize(
    "operator, holds",
    [
        ("DateLessThan", False),
        ("DateNotEquals", True),
        ("DateGreaterThanIfExists", True),
        ("IpAddress", False),
        ("NotIpAddress", True),
        ("IpAddressIfExists", True),
        ("ForAnyValue:IpAddress", False),
        ("ForAllValues:NotIpAddress", True),
    ],
)
def test_date_and_ip_on_a_missing_key(operator, holds):
    """A missing key fails them, satisfies their negations and ...IfExists, as for every other family."""
    assert condition_holds(operator, "aws:tokenissuetime", ["2020-01-01T00:00:00Z"], {}) is holds
    assert condition_holds(operator, "aws:tokenissuetime", ["10.0.0.0/8"], {"aws:tokenissuetime": []}) is holds


BAD_DATES = ["", "yesterday", "2026-13-01", "2026-02-30", "2026-06-15T25:00:00Z", "2026-06-15T12:00:00",
             "2026-06-15T12:00:00+24:00", "2026-06-15 12:00:00Z", "1e10", "-5", "9" * 400, "${aws:CurrentTime}",
             "２０２６-06-15", "2026-06-15T12:00:00.1234567891Z", "0000-01-01", "1234567890123"]
BAD_IPS = ["", "not an ip", "256.0.0.1", "10.0.0.0/33", "2001:db8::/129", "10.0.0.0/8/8", "${aws:SourceIp}",
           "1.2.3", "::ffff:999.1.1.1", "fe80::1%", "٣.٣.٣.٣"]


@pytest.mark.parametrize("bad", BAD_DATES)
@pytest.mark.parametrize("operator", ["DateEquals", "DateLessThan", "DateGreaterThanEquals"])
def test_a_bad_date_never_matches_and_never_raises(operator, bad):
    """An unreadable date, on the policy's side or the request's, makes the comparison false."""
    assert condition_holds(operator, "aws:currenttime", [bad], CONTEXT) is False
    assert condition_holds(operator, "d", ["2026-06-15T12:00:00Z"], {"d": bad}) is False
    assert condition_holds("DateNotEquals", "d", ["2026-06-15T12:00:00Z"], {"d": bad}) is True


@pytest.mark.parametrize("bad", BAD_IPS)
def test_a_bad_address_never_matches_and_never_raises(bad):
    """An unreadable address or block, on either side, is no match."""
    assert condition_holds("IpAddress", "aws:sourceip", [bad], CONTEXT) is False
    assert condition_holds("IpAddress", "ip", ["0.0.0.0/0", "::/0"], {"ip": bad}) is False
    assert condition_holds("NotIpAddress", "ip", ["0.0.0.0/0"], {"ip": bad}) is True


@pytest.mark.parametrize("value", [None, True, {"a": 1}, ["2026-06-15T12:00:00Z"], 1.5e300])
@pytest.mark.parametrize("operator", ["DateEquals", "DateNotEquals", "IpAddress", "NotIpAddress"])
def test_a_value_of_another_json_type_never_raises(operator, value):
    """A policy value that is no string (JSON null, a map, a nested list) is compared as its text, so never matches."""
    assert condition_holds(operator, "aws:currenttime", [value], CONTEXT) is operator.startswith(("DateNot", "Not"))
    assert condition_holds(operator, "x", ["2026-06-15T12:00:00Z", "0.0.0.0/0"], {"x": [value]}) is operator.startswith(("DateNot", "Not"))


@pytest.mark.parametrize("edge", ["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-23:59", "9999-12-31T23:59:59.999999999Z"])
def test_the_calendar_s_edges_compare_without_overflow(edge):
    """The first and last representable instants, pushed past them by a zone offset, still compare."""
    assert condition_holds("DateNotEquals", "aws:currenttime", [edge], CONTEXT) is True


def test_an_epoch_as_a_json_number():
    """A policy may write epoch time as a number rather than a string."""
    assert condition_holds("DateEquals", "aws:epochtime", [1781524800], CONTEXT) is True


@pytest.mark.parametrize(
    "operator",
    ["BinaryEquals", "BinaryEqualsIfExists", "ForAnyValue:BinaryEquals", "ForSomeValue:StringEquals", "DateBetween",
     "IpAddressLike"],
)
def test_unknown_operator_is_not_understood(operator):
    """An operator this evaluator does not implement is not guessed at: it says so, naming the operator."""
    with pytest.raises(NotUnderstood) as caught:
        condition_holds(operator, "aws:sourceip", ["0.0.0.0/0"], CONTEXT)
    assert caught.value.reasons == (f"condition operator {operator} is not implemented",)


def test_an_unknown_operator_is_logged_once(caplog):
    """The first use of an unknown operator is a warning naming it; later uses add nothing (a policy is read per request)."""
    operator = "BinaryNotEqualsForTheLogTest"
    with caplog.at_level(logging.WARNING, logger="iampolicy"):
        for _ in range(3):
            with pytest.raises(NotUnderstood):
                condition_holds(operator, "aws:sourceip", ["x"], CONTEXT)
    warnings = [r for r in caplog.records if r.name == "iampolicy" and operator in r.getMessage()]
    assert len(warnings) == 1 and warnings[0].levelno == logging.WARNING


@pytest.mark.parametrize("operator", ["IpAddress", "NotIpAddress", "DateLessThan", "StringEquals", "IpAddressIfExists"])
def test_a_value_not_known_here_is_not_understood(operator):
    """A key marked UNKNOWN (an auditor's future request) is present but undecidable; Null still answers."""
    context = {**CONTEXT, "aws:sourceip": UNKNOWN}
    with pytest.raises(NotUnderstood) as caught:
        condition_holds(operator, "aws:SourceIp", ["10.0.0.0/8"], context)
    assert caught.value.reasons == ("the value of aws:SourceIp is not known before the request is made",)
    assert condition_holds("Null", "aws:SourceIp", ["true"], context) is False


@pytest.mark.parametrize("operator", ["StringEquals", "StringNotEquals", "StringLikeIfExists", "ForAllValues:StringEquals", "Null"])
def test_a_family_of_keys_not_known_here(operator):
    """`s3:existingobjecttag/*` marked UNKNOWN: any tag key is undecidable, whether it is there included (Null too)."""
    context = {**CONTEXT, "s3:existingobjecttag/*": UNKNOWN}
    with pytest.raises(NotUnderstood) as caught:
        condition_holds(operator, "s3:ExistingObjectTag/Team", ["blue"], context)
    assert caught.value.reasons == ("the value of s3:ExistingObjectTag/Team is not known before the request is made",)
    # A key of the family the request does carry is decided, and other families are not touched.
    assert condition_holds(operator.replace("Null", "StringEquals"), "s3:ExistingObjectTag/team",
                           ["blue"], {**context, "s3:existingobjecttag/team": "blue"}) is (operator != "StringNotEquals")
    assert condition_holds("StringEquals", "s3:RequestObjectTag/team", ["blue"], context) is False


@pytest.mark.parametrize(
    "conditions, outcome",
    [
        (None, True),
        ({}, True),
        ({"StringEquals": {SUB: ME}, "Bool": {"aws:securetransport": "false"}}, True),  # every operator must hold
        ({"StringEquals": {SUB: ME}, "Bool": {"aws:securetransport": "true"}}, False),
        ({"StringEquals": {SUB: ME, "s3:prefix": "public/"}}, False),  # every key too
        ({"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}, "DateGreaterThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}}, True),
        ({"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}, "DateLessThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}}, False),
        # One understood condition fails: the statement certainly does not apply.
        ({"BinaryEquals": {"aws:sourceip": "AAAA"}, "StringEquals": {SUB: "someone-else"}}, False),
        # Nothing understood fails: what was not understood decides, so it is reported.
        ({"BinaryEquals": {"aws:sourceip": "AAAA"}, "StringEquals": {SUB: ME}},
         ("condition operator BinaryEquals is not implemented",)),
        ({"BinaryEquals": {"aws:sourceip": "AAAA"}, "ForSomeValue:StringLike": {"aws:currenttime": "*"}},
         ("condition operator BinaryEquals is not implemented", "condition operator ForSomeValue:StringLike is not implemented")),
        ({"StringEquals": "not a map"}, ("condition StringEquals is not a map of keys to values",)),
        (["not", "a", "map"], ("the Condition element is not a map of operators",)),
    ],
)
def test_conditions_hold(conditions, outcome):
    """A whole Condition element: all must hold; a definite failure wins over what is not understood."""
    if isinstance(outcome, bool):
        assert conditions_hold(conditions, CONTEXT) is outcome
    else:
        with pytest.raises(NotUnderstood) as caught:
            conditions_hold(conditions, CONTEXT)
        assert caught.value.reasons == outcome


# DynamoDB's multi-valued keys, as the developer guide's fine-grained access
# examples use them (specifying-conditions.html): LeadingKeys holds every
# partition key a request touches, Attributes every attribute name it names.
DYNAMODB = {
    **CONTEXT,
    "dynamodb:leadingkeys": [ME, ME],
    "dynamodb:attributes": ["identityId", "albumId", "title"],
    "mixed": [ME, "us-east-1:someone-else"],
    "scan": [],  # a Scan names no partition
}


@pytest.mark.parametrize(
    "operator, key, values, holds",
    [
        ("ForAllValues:StringEquals", "dynamodb:LeadingKeys", [f"${{{SUB}}}"], True),  # a policy variable in a set test
        ("ForAllValues:StringEquals", "mixed", [f"${{{SUB}}}"], False),  # one foreign partition refuses the batch
        ("ForAnyValue:StringEquals", "mixed", [f"${{{SUB}}}"], True),  # why AWS says LeadingKeys needs ForAllValues
        ("ForAllValues:StringEquals", "scan", [f"${{{SUB}}}"], True),  # vacuous: why Scan must not be granted
        ("ForAnyValue:StringNotEquals", "mixed", [f"${{{SUB}}}"], True),  # the deny-based form catches the foreign key
        ("ForAnyValue:StringNotEquals", "dynamodb:LeadingKeys", [f"${{{SUB}}}"], False),
        ("ForAllValues:StringNotLike", "dynamodb:Attributes", ["FreeGames*", "BossLevel*"], True),  # guide's example 3
        ("ForAllValues:StringNotLike", "dynamodb:Attributes", ["title"], False),
        ("ForAllValues:StringLike", "dynamodb:Attributes", ["identityId", "albumId", "t*"], True),
        ("ForAllValues:StringEquals", "dynamodb:Attributes", ["identityId", "albumId"], False),
        ("ForAllValues:StringEqualsIgnoreCase", "dynamodb:Attributes", ["IDENTITYID", "ALBUMID", "TITLE"], True),
    ],
)
def test_dynamodb_set_keys(operator, key, values, holds):
    """ForAllValues / ForAnyValue, plain and negated, over DynamoDB's multi-valued keys."""
    assert condition_holds(operator, key, values, DYNAMODB) is holds


def test_unknown_leading_keys_are_undecided():
    """A partition key the sandbox cannot read (no such table) is UNKNOWN: no set test decides on it."""
    context = {**CONTEXT, "dynamodb:leadingkeys": UNKNOWN}
    for operator in ("ForAllValues:StringEquals", "ForAnyValue:StringEquals", "ForAnyValue:StringNotEquals"):
        with pytest.raises(NotUnderstood):
            condition_holds(operator, "dynamodb:LeadingKeys", [ME], context)
