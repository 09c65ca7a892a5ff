"""Multi-object delete (`POST /<bucket>?delete`) decided key by key, as S3
does: 200, the keys the caller may delete (identity and bucket policy, per
key) are deleted, the others listed as `<Error>` with `AccessDenied` (and
their VersionId), in quiet mode too; moto is handed only the allowed keys.
Real requests through boto3 and HTTP against the test sandbox, with Alice's
and Bob's identity-pool credentials under the policies provision deploys."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any
from xml.etree import ElementTree

import pytest
import requests
from botocore.exceptions import ClientError

from tests.sandbox_kit import SandboxKit

NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"
TIMEOUT = 10  # seconds


@dataclass
class Pair:
    """Alice and Bob signed in to one deployment, each with objects of their own."""

    kit: SandboxKit
    bucket: str
    ids: dict[str, str]
    credentials: dict[str, dict[str, str]]

    def s3(self, name: str | None = None):
        return self.kit.client("s3", self.credentials[name] if name else None)

    def seed(self, owner: str, count: int = 1) -> list[str]:
        """Fresh keys under the owner's private prefix, written with the admin key."""
        keys = [f"private/{self.ids[owner]}/{uuid.uuid4().hex}.jpg" for _ in range(count)]
        for key in keys:
            self.s3().put_object(Bucket=self.bucket, Key=key, Body=b"photo")
        return keys

    def exists(self, key: str) -> bool:
        try:
            self.s3().head_object(Bucket=self.bucket, Key=key)
        except ClientError as error:
            if error.response["Error"]["Code"] in ("404", "NoSuchKey"):
                return False
            raise
        return True


@pytest.fixture(scope="module")
def pair(sandbox: SandboxKit) -> Pair:
    dep = sandbox.deployment(users=("alice", "bob"))
    alice_id, alice = dep.user_credentials("alice")
    bob_id, bob = dep.user_credentials("bob")
    return Pair(sandbox, dep.bucket, {"alice": alice_id, "bob": bob_id}, {"alice": alice, "bob": bob})


def _delete(s3, bucket: str, objects: list[dict[str, str]], *, quiet: bool = False) -> dict[str, Any]:
    return s3.delete_objects(Bucket=bucket, Delete={"Objects": objects, "Quiet": quiet})


def _denied(key: str, version: str | None = None) -> dict[str, str]:
    error = {"Key": key, "Code": "AccessDenied", "Message": "Access Denied"}
    if version is not None:
        error["VersionId"] = version
    return error


def test_one_foreign_key_is_reported_and_the_rest_deleted(pair):
    """Alice deletes two keys of hers and one of Bob's: 200, hers gone, Bob's listed as AccessDenied and kept."""
    mine, theirs = pair.seed("alice", 2), pair.seed("bob")[0]
    answer = _delete(pair.s3("alice"), pair.bucket, [{"Key": k} for k in [mine[0], theirs, mine[1]]])
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert sorted(d["Key"] for d in answer["Deleted"]) == sorted(mine)
    assert answer["Errors"] == [_denied(theirs)]
    assert [pair.exists(k) for k in mine] == [False, False]
    assert pair.exists(theirs)


def test_refused_version_is_listed_with_its_version_id(pair):
    """A refused key named with a VersionId is listed with it (s3:DeleteObjectVersion is not in Alice's role)."""
    key = pair.seed("alice")[0]
    answer = _delete(pair.s3("alice"), pair.bucket, [{"Key": key, "VersionId": "3HL4kqtJlcpXroDTDmJ"}])
    assert answer["Errors"] == [_denied(key, "3HL4kqtJlcpXroDTDmJ")]
    assert "Deleted" not in answer
    assert pair.exists(key)


def test_quiet_mode_lists_errors_only(pair):
    """Quiet: the deleted keys are left out of the answer, the refused ones are still listed."""
    mine, theirs = pair.seed("alice")[0], pair.seed("bob")[0]
    answer = _delete(pair.s3("alice"), pair.bucket, [{"Key": mine}, {"Key": theirs}], quiet=True)
    assert "Deleted" not in answer
    assert answer["Errors"] == [_denied(theirs)]
    assert not pair.exists(mine)


def test_nothing_allowed_is_still_200_and_deletes_nothing(pair):
    """Every key refused: S3 answers 200 with an Error each, and nothing is deleted."""
    theirs = pair.seed("bob", 2)
    answer = _delete(pair.s3("alice"), pair.bucket, [{"Key": k} for k in theirs])
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert answer["Errors"] == [_denied(k) for k in theirs]
    assert all(pair.exists(k) for k in theirs)


def test_bucket_policy_deny_refuses_its_keys_only(pair):
    """A bucket-policy Deny on one of the account root's keys: that key is listed, the other deleted."""
    kept, gone = f"locked/{uuid.uuid4().hex}.jpg", f"loose/{uuid.uuid4().hex}.jpg"
    s3 = pair.s3()
    for key in (kept, gone):
        s3.put_object(Bucket=pair.bucket, Key=key, Body=b"photo")
    deny = {"Effect": "Deny", "Principal": "*", "Action": "s3:DeleteObject", "Resource": f"arn:aws:s3:::{pair.bucket}/locked/*"}
    s3.put_bucket_policy(Bucket=pair.bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [deny]}))
    try:
        answer = _delete(s3, pair.bucket, [{"Key": kept}, {"Key": gone}])
    finally:
        s3.delete_bucket_policy(Bucket=pair.bucket)
    assert [d["Key"] for d in answer["Deleted"]] == [gone]
    assert answer["Errors"] == [_denied(kept)]
    assert pair.exists(kept) and not pair.exists(gone)


def test_raw_answer_is_s3s_delete_result(pair):
    """The XML itself: one <DeleteResult> in S3's namespace, Deleted before Error, and the request ID header."""
    mine, theirs = pair.seed("alice")[0], pair.seed("bob")[0]
    s3 = pair.s3("alice")
    raw: list[requests.Response] = []
    s3.meta.events.register("after-call.s3.DeleteObjects", lambda http_response, **_: raw.append(http_response))
    _delete(s3, pair.bucket, [{"Key": theirs}, {"Key": mine}])
    root = ElementTree.fromstring(raw[0].content)
    assert root.tag == f"{NS}DeleteResult"
    assert [child.tag for child in root] == [f"{NS}Deleted", f"{NS}Error"]
    assert root.find(f"{NS}Error/{NS}Key").text == theirs
    assert raw[0].headers["x-amz-request-id"]


def test_decision_records_the_refused_keys(pair):
    """The kept decision says how many keys were refused, and explains each key."""
    mine, theirs = pair.seed("alice")[0], pair.seed("bob")[0]
    answer = _delete(pair.s3("alice"), pair.bucket, [{"Key": mine}, {"Key": theirs}])
    request_id = answer["ResponseMetadata"]["RequestId"]
    kept = requests.get(f"{pair.kit.endpoint}/_sandbox/decisions/{request_id}", timeout=TIMEOUT).json()
    assert kept["reason"].startswith("1 of 2 objects may be deleted; the others are refused (User: ")
    assert [need["effect"] for need in kept["needs"]] == ["Allow", "ImplicitDeny"]


def test_malformed_delete_is_still_refused_whole(pair):
    """A body that is not <Delete> with 1 to 1,000 objects is MalformedXML, and deletes nothing."""
    with pytest.raises(ClientError) as caught:
        _delete(pair.s3("alice"), pair.bucket, [])
    assert caught.value.response["Error"]["Code"] == "MalformedXML"
