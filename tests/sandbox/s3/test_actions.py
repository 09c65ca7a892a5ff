"""The S3 action mapper without a server: method, path, query and headers in,
the IAM actions and ARNs AWS would check out. One row per REST request.
https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-with-s3-actions.html"""

from __future__ import annotations

import pytest

from sandbox.errors import AwsError
from sandbox.s3.actions import DeleteRequest, Need, delete_request, needs, split_path

B = "arn:aws:s3:::photos"
K = "arn:aws:s3:::photos/private/u/p.jpg"
KEY = "/photos/private/u/p.jpg"
DENIED = "s3:UnsupportedRequest"


def _needs(method: str, path: str, query: dict[str, str] | None = None, headers: dict[str, str] | None = None,
           body: bytes = b"") -> list[tuple[str, str]]:
    return [(n.action, n.resource) for n in needs(method=method, raw_path=path, query=query or {}, headers=headers or {}, body=body)]


@pytest.mark.parametrize(
    ("method", "path", "query", "headers", "expected"),
    [
        pytest.param("GET", "/", {}, {}, [("s3:ListAllMyBuckets", "*")], id="list-buckets"),
        pytest.param("GET", KEY, {}, {}, [("s3:GetObject", K)], id="get"),
        pytest.param("HEAD", KEY, {}, {}, [("s3:GetObject", K)], id="head"),
        pytest.param("GET", KEY, {"versionId": "v1"}, {}, [("s3:GetObjectVersion", K)], id="get-version"),
        pytest.param("HEAD", KEY, {"versionId": "v1"}, {}, [("s3:GetObjectVersion", K)], id="head-version"),
        pytest.param("PUT", KEY, {}, {}, [("s3:PutObject", K)], id="put"),
        pytest.param("DELETE", KEY, {}, {}, [("s3:DeleteObject", K)], id="delete"),
        pytest.param("DELETE", KEY, {"versionId": "v1"}, {}, [("s3:DeleteObjectVersion", K)], id="delete-version"),
        pytest.param("GET", KEY, {"response-content-type": "image/png"}, {}, [("s3:GetObject", K)], id="get-response-override"),
        pytest.param("GET", KEY, {"X-Amz-Signature": "x"}, {}, [("s3:GetObject", K)], id="presigned-get"),
        # multipart: every step but abort and list-parts is PutObject
        pytest.param("POST", KEY, {"uploads": ""}, {}, [("s3:PutObject", K)], id="multipart-create"),
        pytest.param("PUT", KEY, {"uploadId": "u", "partNumber": "1"}, {}, [("s3:PutObject", K)], id="multipart-part"),
        pytest.param("POST", KEY, {"uploadId": "u"}, {}, [("s3:PutObject", K)], id="multipart-complete"),
        pytest.param("DELETE", KEY, {"uploadId": "u"}, {}, [("s3:AbortMultipartUpload", K)], id="multipart-abort"),
        pytest.param("GET", KEY, {"uploadId": "u"}, {}, [("s3:ListMultipartUploadParts", K)], id="multipart-list-parts"),
        pytest.param("GET", "/photos", {"uploads": ""}, {}, [("s3:ListBucketMultipartUploads", B)], id="multipart-list-uploads"),
        # copy: read the source, write the destination
        pytest.param("PUT", KEY, {}, {"x-amz-copy-source": "/other/public/a.jpg"},
                     [("s3:GetObject", "arn:aws:s3:::other/public/a.jpg"), ("s3:PutObject", K)], id="copy"),
        pytest.param("PUT", KEY, {}, {"x-amz-copy-source": "other/public/a%20b.jpg"},
                     [("s3:GetObject", "arn:aws:s3:::other/public/a b.jpg"), ("s3:PutObject", K)], id="copy-encoded"),
        pytest.param("PUT", KEY, {}, {"x-amz-copy-source": "/other/a.jpg?versionId=v1"},
                     [("s3:GetObjectVersion", "arn:aws:s3:::other/a.jpg"), ("s3:PutObject", K)], id="copy-version"),
        pytest.param("PUT", KEY, {}, {"x-amz-copy-source": "/other"}, [(DENIED, K), ("s3:PutObject", K)], id="copy-no-key"),
        # buckets
        pytest.param("GET", "/photos", {}, {}, [("s3:ListBucket", B)], id="list"),
        pytest.param("GET", "/photos", {"list-type": "2", "prefix": "public/"}, {}, [("s3:ListBucket", B)], id="list-v2"),
        pytest.param("PUT", "/photos", {}, {}, [("s3:CreateBucket", B)], id="create-bucket"),
        pytest.param("DELETE", "/photos", {}, {}, [("s3:DeleteBucket", B)], id="delete-bucket"),
        pytest.param("POST", "/photos", {}, {}, [(DENIED, B)], id="post-bucket"),
        # sub-resources
        pytest.param("GET", "/photos", {"versions": ""}, {}, [("s3:ListBucketVersions", B)], id="list-versions"),
        pytest.param("GET", "/photos", {"versioning": ""}, {}, [("s3:GetBucketVersioning", B)], id="get-versioning"),
        pytest.param("PUT", "/photos", {"versioning": ""}, {}, [("s3:PutBucketVersioning", B)], id="put-versioning"),
        pytest.param("GET", "/photos", {"lifecycle": ""}, {}, [("s3:GetLifecycleConfiguration", B)], id="get-lifecycle"),
        pytest.param("PUT", "/photos", {"lifecycle": ""}, {}, [("s3:PutLifecycleConfiguration", B)], id="put-lifecycle"),
        pytest.param("DELETE", "/photos", {"cors": ""}, {}, [("s3:PutBucketCORS", B)], id="delete-cors"),
        pytest.param("GET", "/photos", {"policy": ""}, {}, [("s3:GetBucketPolicy", B)], id="get-policy"),
        pytest.param("DELETE", "/photos", {"policy": ""}, {}, [("s3:DeleteBucketPolicy", B)], id="delete-policy"),
        pytest.param("GET", "/photos", {"object-lock": ""}, {}, [("s3:GetBucketObjectLockConfiguration", B)], id="object-lock"),
        pytest.param("GET", "/photos", {"replication": ""}, {}, [("s3:GetReplicationConfiguration", B)], id="replication"),
        pytest.param("GET", "/photos", {"policyStatus": ""}, {}, [("s3:GetBucketPolicyStatus", B)], id="policy-status"),
        pytest.param("GET", "/photos", {"accelerate": ""}, {}, [("s3:GetAccelerateConfiguration", B)], id="accelerate"),
        pytest.param("GET", "/photos", {"requestPayment": ""}, {}, [("s3:GetBucketRequestPayment", B)], id="request-payment"),
        pytest.param("DELETE", "/photos", {"versioning": ""}, {}, [(DENIED, B)], id="delete-versioning"),
        pytest.param("PUT", "/photos", {"location": ""}, {}, [(DENIED, B)], id="put-location"),
        pytest.param("GET", KEY, {"acl": ""}, {}, [("s3:GetObjectAcl", K)], id="get-object-acl"),
        pytest.param("GET", KEY, {"acl": "", "versionId": "v1"}, {}, [("s3:GetObjectVersionAcl", K)], id="get-object-version-acl"),
        pytest.param("DELETE", KEY, {"tagging": ""}, {}, [("s3:DeleteObjectTagging", K)], id="delete-object-tagging"),
        pytest.param("DELETE", KEY, {"tagging": "", "versionId": "v1"}, {}, [("s3:DeleteObjectVersionTagging", K)],
                     id="delete-object-version-tagging"),
        pytest.param("GET", KEY, {"attributes": ""}, {}, [("s3:GetObjectAttributes", K)], id="object-attributes"),
        # unknown parameters fail closed, never taken for ListBucket or GetObject
        pytest.param("GET", "/photos", {"made-up": ""}, {}, [(DENIED, B)], id="unknown-bucket-parameter"),
        pytest.param("GET", KEY, {"versioning": ""}, {}, [(DENIED, K)], id="bucket-subresource-on-object"),
        pytest.param("PATCH", KEY, {}, {}, [(DENIED, K)], id="unknown-method"),
    ],
)
def test_request_needs(method, path, query, headers, expected):
    """Each REST request maps to the IAM actions and ARNs AWS checks for it."""
    assert _needs(method, path, query, headers) == expected


def test_list_bucket_carries_its_condition_keys():
    """ListBucket is checked on the bucket ARN with s3:prefix, s3:delimiter and s3:max-keys in the context."""
    query = {"prefix": "public/u/", "delimiter": "/", "max-keys": "10", "marker": "m"}
    assert needs(method="GET", raw_path="/photos", query=query, headers={}, body=b"") == [
        Need("s3:ListBucket", B, {"s3:prefix": "public/u/", "s3:delimiter": "/", "s3:max-keys": "10"})
    ]


def test_multi_object_delete_needs_each_key():
    """A POST ?delete needs DeleteObject, or DeleteObjectVersion, on every key it names."""
    body = (b"<Delete><Quiet>true</Quiet><Object><Key>private/u/a.jpg</Key></Object>"
            b"<Object><Key>private/v/b.jpg</Key><VersionId>v1</VersionId></Object></Delete>")
    assert _needs("POST", "/photos", {"delete": ""}, body=body) == [
        ("s3:DeleteObject", "arn:aws:s3:::photos/private/u/a.jpg"),
        ("s3:DeleteObjectVersion", "arn:aws:s3:::photos/private/v/b.jpg"),
    ]


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"<Delete>", id="not-xml"),
        pytest.param(b"<Remove><Object><Key>a</Key></Object></Remove>", id="wrong-root"),
        pytest.param(b"<Delete></Delete>", id="no-objects"),
        pytest.param(b"<Delete><Object><Key></Key></Object></Delete>", id="empty-key"),
        pytest.param(b"<Delete><Object><VersionId>v</VersionId></Object></Delete>", id="no-key"),
        pytest.param(b"<Delete><Other/></Delete>", id="unknown-element"),
        pytest.param(b"<Delete>" + b"<Object><Key>k</Key></Object>" * 1001 + b"</Delete>", id="over-1000"),
    ],
)
def test_malformed_multi_object_delete_is_malformed_xml(body):
    """A multi-object delete that is not <Delete> with 1 to 1,000 keys is MalformedXML, as S3 answers."""
    with pytest.raises(AwsError) as refused:
        delete_request(body)
    assert (refused.value.code, refused.value.status) == ("MalformedXML", 400)


def test_delete_request_is_reserialized_from_what_was_read():
    """moto is handed the keys the gateway read, escaped, and nothing else."""
    parsed = delete_request(b'<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Object><Key>a&amp;b</Key></Object></Delete>')
    assert parsed == DeleteRequest(objects=(("a&b", None),), quiet=False)
    assert parsed.xml() == b"<Delete><Quiet>false</Quiet><Object><Key>a&amp;b</Key></Object></Delete>"


@pytest.mark.parametrize(
    ("raw_path", "expected"),
    [
        ("/", (None, None)),
        ("/photos", ("photos", None)),
        ("/photos/", ("photos", None)),
        ("/photos/private/a%20b.jpg", ("photos", "private/a b.jpg")),
        ("/photos/a/b?x=1", ("photos", "a/b")),
    ],
)
def test_split_path(raw_path, expected):
    """The bucket and key come from the path alone (path-style), decoded."""
    assert split_path(raw_path) == expected


STORED = {("photos", "private/u/p.jpg", None): {"Visibility": "public"}, ("photos", "private/u/p.jpg", "v1"): {"visibility": "old"},
          ("other", "a.jpg", None): {"class": "src"}}


def _contexts(method: str, path: str, query: dict[str, str] | None = None, headers: dict[str, str] | None = None,
              body: bytes = b"") -> list[tuple[str, dict]]:
    found = needs(method=method, raw_path=path, query=query or {}, headers=headers or {}, body=body,
                  object_tags=lambda bucket, key, version: STORED.get((bucket, key, version)))
    return [(n.action, n.context) for n in found]


TAGGING = b"<Tagging><TagSet><Tag><Key>a</Key><Value>1</Value></Tag><Tag><Key>B</Key><Value>2</Value></Tag></TagSet></Tagging>"
EXISTING = {"s3:existingobjecttag/visibility": "public"}


@pytest.mark.parametrize(
    ("method", "path", "query", "headers", "body", "expected"),
    [
        pytest.param("GET", KEY, {}, {}, b"", [("s3:GetObject", EXISTING)], id="get"),
        pytest.param("GET", KEY, {"versionId": "v1"}, {}, b"", [("s3:GetObjectVersion", {"s3:existingobjecttag/visibility": "old"})],
                     id="get-version"),
        pytest.param("GET", "/photos/none.jpg", {}, {}, b"", [("s3:GetObject", {})], id="get-absent-object"),
        pytest.param("GET", KEY, {"tagging": ""}, {}, b"", [("s3:GetObjectTagging", EXISTING)], id="get-tagging"),
        pytest.param("GET", KEY, {"acl": ""}, {}, b"", [("s3:GetObjectAcl", EXISTING)], id="get-acl"),
        pytest.param("DELETE", KEY, {"tagging": ""}, {}, b"", [("s3:DeleteObjectTagging", EXISTING)], id="delete-tagging"),
        pytest.param("PUT", KEY, {"tagging": ""}, {}, TAGGING, [("s3:PutObjectTagging", {
            **EXISTING, "s3:requestobjecttag/a": "1", "s3:requestobjecttag/b": "2", "s3:requestobjecttagkeys": ["a", "B"]})],
            id="put-tagging"),
        pytest.param("PUT", KEY, {"tagging": ""}, {}, b"<not xml", [("s3:PutObjectTagging", EXISTING)], id="put-tagging-malformed"),
        # Never ExistingObjectTag for PutObject and DeleteObject
        pytest.param("PUT", KEY, {}, {}, b"", [("s3:PutObject", {})], id="put-untagged"),
        pytest.param("PUT", KEY, {}, {"x-amz-tagging": "a=1&b=two%20words"}, b"", [("s3:PutObject", {
            "s3:requestobjecttag/a": "1", "s3:requestobjecttag/b": "two words", "s3:requestobjecttagkeys": ["a", "b"]})],
            id="put-tagged"),
        pytest.param("PUT", KEY, {}, {"x-amz-tagging": ""}, b"", [("s3:PutObject", {"s3:requestobjecttagkeys": []})], id="put-empty-tagging"),
        pytest.param("DELETE", KEY, {}, {}, b"", [("s3:DeleteObject", {})], id="delete"),
        pytest.param("POST", KEY, {"uploads": ""}, {"x-amz-tagging": "a=1"}, b"", [("s3:PutObject", {
            "s3:requestobjecttag/a": "1", "s3:requestobjecttagkeys": ["a"]})], id="multipart-create-tagged"),
        pytest.param("PUT", KEY, {"uploadId": "u", "partNumber": "1"}, {"x-amz-tagging": "a=1"}, b"", [("s3:PutObject", {})],
                     id="multipart-part-sets-no-tags"),
        # A copy: the source's tags on its read, the request's on the write
        pytest.param("PUT", KEY, {}, {"x-amz-copy-source": "/other/a.jpg", "x-amz-tagging": "a=1"}, b"", [
            ("s3:GetObject", {"s3:existingobjecttag/class": "src"}),
            ("s3:PutObject", {"s3:requestobjecttag/a": "1", "s3:requestobjecttagkeys": ["a"]})], id="copy"),
        pytest.param("PUT", KEY, {}, {"x-amz-copy-source": KEY.lstrip("/") + "?versionId=v1"}, b"", [
            ("s3:GetObjectVersion", {"s3:existingobjecttag/visibility": "old"}), ("s3:PutObject", {})], id="copy-onto-itself"),
        # Bucket requests carry no object tags
        pytest.param("GET", "/photos", {"prefix": "p"}, {}, b"", [("s3:ListBucket", {"s3:prefix": "p"})], id="list"),
    ],
)
def test_tag_condition_keys(method, path, query, headers, body, expected):
    """Each need carries the tag keys its action is defined for (list_amazons3.html), and no others."""
    assert _contexts(method, path, query, headers, body) == expected


@pytest.mark.parametrize(
    ("headers", "body"),
    [
        pytest.param({"x-amz-tagging": "a=1&a=2"}, b"", id="header"),
        pytest.param({}, b"<Tagging><TagSet><Tag><Key>a</Key><Value>1</Value></Tag><Tag><Key>a</Key><Value>2</Value></Tag></TagSet></Tagging>",
                     id="body"),
    ],
)
def test_a_tag_key_given_twice_is_invalid_tag(headers, body):
    """Which of two values moto would keep is not something a policy decision may guess: InvalidTag, as S3 answers."""
    query = {"tagging": ""} if body else {}
    with pytest.raises(AwsError) as refused:
        needs(method="PUT", raw_path=KEY, query=query, headers=headers, body=body, object_tags=lambda *_: None)
    assert (refused.value.code, refused.value.status) == ("InvalidTag", 400)


def test_tags_are_read_as_moto_stores_them():
    """Whitespace around a value is stripped, as moto strips it before storing; a second TagSet is no tagging."""
    spaced = b"<Tagging><TagSet><Tag><Key> a </Key><Value>\n secret </Value></Tag></TagSet></Tagging>"
    context = _contexts("PUT", KEY, {"tagging": ""}, {}, spaced)[0][1]
    assert context["s3:requestobjecttag/a"] == "secret"
    doubled = b"<Tagging><TagSet></TagSet><TagSet><Tag><Key>a</Key><Value>1</Value></Tag></TagSet></Tagging>"
    assert "s3:requestobjecttagkeys" not in _contexts("PUT", KEY, {"tagging": ""}, {}, doubled)[0][1]
