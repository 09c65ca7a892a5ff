"""One request as CloudTrail records it: the record format, the
`userIdentity` of each kind of caller, and secrets hidden as CloudTrail
hides them (`HIDDEN_DUE_TO_SECURITY_REASONS`).

For identity-pool credentials, `userIdentity` is CloudTrail's `AssumedRole`
with `sessionContext.sessionIssuer` (the role) and `webIdFederationData`
(`cognito-identity.amazonaws.com` with the `amr`, `aud` and `sub`
attributes), so a query written against this trail works on a real one.
The unsigned Cognito calls (`GetId`, `GetCredentialsForIdentity`) are
`"type": "Unknown"`, as AWS logs them, with the identity ID in their
parameters and response, which is how a trail joins a person to a role.
https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html
https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-user-identity.html
"""

from __future__ import annotations

import json
import random
import re
import uuid
from collections.abc import Mapping
from typing import Any
from xml.etree import ElementTree

HIDDEN = "HIDDEN_DUE_TO_SECURITY_REASONS"
EVENT_VERSION = "1.08"
MAX_ELEMENTS = 64 * 1024  # bytes of a response body parsed into responseElements; larger ones are left out

# Keys whose values CloudTrail never shows, compared lower-cased without `_` and `-`:
# passwords, tokens, secret keys, SECRET_HASH, client secrets, codes, and the
# Logins map (provider -> ID token), whose every value is a token.
_SECRET_KEYS = frozenset(
    {
        "password", "previouspassword", "proposedpassword", "newpassword", "temporarypassword",
        "secretkey", "secretaccesskey", "sessiontoken", "secrethash", "clientsecret",
        "idtoken", "accesstoken", "refreshtoken", "token", "webidentitytoken", "samlassertion",
        "logins", "confirmationcode", "code", "session", "privatekey", "customsecret",
    }
)
# Operations that read only, besides every Get/List/Describe/Head. The Cognito
# Get* calls that make an identity or issue credentials are not read-only.
_NOT_READ_ONLY = frozenset({"GetId", "GetCredentialsForIdentity", "GetOpenIdToken", "GetOpenIdTokenForDeveloperIdentity"})
_WITH_RESPONSE = _NOT_READ_ONLY  # read-ish calls whose answer the trail must show (the identity ID)
_S3_DATA = frozenset(
    {
        "GetObject", "HeadObject", "PutObject", "CopyObject", "DeleteObject", "DeleteObjects",
        "CreateMultipartUpload", "UploadPart", "UploadPartCopy", "CompleteMultipartUpload",
        "AbortMultipartUpload", "ListParts", "ListObjects", "ListObjectsV2", "ListObjectVersions",
        "ListMultipartUploads",
    }
)


def _normal(key: str) -> str:
    return key.lower().replace("_", "").replace("-", "")


def redact(value: Any) -> Any:
    """`value` with every secret replaced by HIDDEN_DUE_TO_SECURITY_REASONS (a
    secret map, such as Logins, keeps its keys and hides each value)."""
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if isinstance(key, str) and _normal(key) in _SECRET_KEYS:
                out[key] = {k: HIDDEN for k in item} if isinstance(item, Mapping) else HIDDEN
            else:
                out[key] = redact(item)
        return out
    if isinstance(value, list):
        return [redact(item) for item in value]
    return value


def camel(value: Any) -> Any:
    """API member names as CloudTrail writes them (`IdentityPoolId` -> `identityPoolId`).
    Map keys that are data (provider names, tag keys) mostly start lower-case already."""
    if isinstance(value, Mapping):
        return {(k[:1].lower() + k[1:] if isinstance(k, str) else k): camel(v) for k, v in value.items()}
    if isinstance(value, list):
        return [camel(item) for item in value]
    return value


def read_only(event_name: str) -> bool:
    return event_name.startswith(("Get", "List", "Describe", "Head")) and event_name not in _NOT_READ_ONLY


def s3_data_event(event_name: str) -> bool:
    return event_name in _S3_DATA


def user_identity(
    *,
    kind: str | None,
    arn: str | None,
    account_id: str,
    access_key_id: str | None,
    user_id: str | None = None,
    user_name: str | None = None,
    role_arn: str | None = None,
    role_id: str | None = None,
    role_name: str | None = None,
    creation_date: str | None = None,
    web_identity: Mapping[str, Any] | None = None,
    service: str = "",
) -> dict[str, Any]:
    """CloudTrail's `userIdentity` for one caller (`kind` None: unsigned)."""
    if kind is None:
        if service == "s3":
            return {"type": "AWSAccount", "principalId": "", "accountId": "anonymous"}
        identity: dict[str, Any] = {"type": "Unknown", "principalId": "Anonymous"}
        if access_key_id:  # signed, but the signature or key was refused
            identity["accessKeyId"] = access_key_id
        return identity
    if kind == "Root":
        return {"type": "Root", "principalId": account_id, "arn": arn, "accountId": account_id, "accessKeyId": access_key_id}
    if kind == "IAMUser":
        return {
            "type": "IAMUser", "principalId": user_id, "arn": arn, "accountId": account_id,
            "accessKeyId": access_key_id, "userName": user_name,
        }
    context: dict[str, Any] = {
        "sessionIssuer": {
            "type": "Role", "principalId": role_id, "arn": role_arn, "accountId": account_id, "userName": role_name,
        },
    }
    if web_identity:
        amr = web_identity.get("amr")
        context["webIdFederationData"] = {
            "federatedProvider": "cognito-identity.amazonaws.com",
            "attributes": {
                "cognito-identity.amazonaws.com:amr": json.dumps(list(amr or []), separators=(",", ":")),
                "cognito-identity.amazonaws.com:aud": web_identity.get("aud"),
                "cognito-identity.amazonaws.com:sub": web_identity.get("sub"),
            },
        }
    context["attributes"] = {"creationDate": creation_date, "mfaAuthenticated": "false"}
    return {
        "type": "AssumedRole", "principalId": user_id, "arn": arn, "accountId": account_id,
        "accessKeyId": access_key_id, "sessionContext": context,
    }


def json_elements(body: bytes) -> Any:
    """A JSON answer as responseElements, redacted; None when it is not one."""
    if not body or len(body) > MAX_ELEMENTS:
        return None
    try:
        parsed = json.loads(body)
    except ValueError:
        return None
    return redact(camel(parsed)) if isinstance(parsed, dict) and parsed else None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _xml_value(element: ElementTree.Element) -> Any:
    children = list(element)
    if not children:
        return element.text or ""
    if all(_local(c.tag) == "member" for c in children):
        return [_xml_value(c) for c in children]
    return {_local(c.tag): _xml_value(c) for c in children}


def query_elements(body: bytes, operation: str) -> Any:
    """A Query-protocol answer's `<Operation>Result>` as responseElements, redacted."""
    if not body or len(body) > MAX_ELEMENTS:
        return None
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError:
        return None
    result = next((e for e in root if _local(e.tag) == f"{operation}Result"), None)
    if result is None or not list(result):
        return None
    value = _xml_value(result)
    return redact(camel(value)) if isinstance(value, dict) else None


_XML_CODE = re.compile(rb"<Code>([^<]{1,256})</Code>")
_XML_MESSAGE = re.compile(rb"<Message>([^<]{0,2048})</Message>")


def error_of(status: int, body: bytes) -> tuple[str | None, str | None]:
    """(errorCode, errorMessage) of an answer, read from its body in either protocol."""
    if status < 400:
        return None, None
    if body[:1] == b"{":
        try:
            parsed = json.loads(body)
        except ValueError:
            parsed = {}
        if isinstance(parsed, dict) and parsed.get("__type"):
            message = parsed.get("message") or parsed.get("Message")
            return str(parsed["__type"]).rsplit("#", 1)[-1], str(message) if message is not None else None
    code, message = _XML_CODE.search(body[:8192]), _XML_MESSAGE.search(body[:8192])
    if code:
        return code[1].decode("utf-8", "replace"), (message[1].decode("utf-8", "replace") if message else None)
    return {403: "AccessDenied", 404: "NotFound"}.get(status, str(status)), None


def record(
    *,
    service: str,
    event_name: str,
    region: str,
    source_ip: str,
    user_agent: str,
    identity: dict[str, Any],
    request_id: str,
    account_id: str,
    request_parameters: Any,
    response_elements: Any,
    error_code: str | None,
    error_message: str | None,
    additional: dict[str, Any] | None = None,
    resources: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A CloudTrail record; the trail stamps `eventTime` as it keeps it."""
    data = service == "s3" and s3_data_event(event_name)
    entry: dict[str, Any] = {
        "eventVersion": EVENT_VERSION,
        "userIdentity": identity,
        "eventTime": None,
        "eventSource": f"{service}.amazonaws.com",
        "eventName": event_name,
        "awsRegion": region,
        "sourceIPAddress": source_ip,
        "userAgent": user_agent[:1024],
        "errorCode": error_code,
        "errorMessage": error_message,
        "requestParameters": redact(request_parameters) if request_parameters is not None else None,
        "responseElements": response_elements,
        "requestID": request_id,
        "eventID": str(uuid.UUID(int=random.getrandbits(128), version=4)),  # names the record; guards nothing
        "readOnly": read_only(event_name),
        "eventType": "AwsApiCall",
        "managementEvent": not data,
        "recipientAccountId": account_id,
        "eventCategory": "Data" if data else "Management",
    }
    if additional:
        entry["additionalEventData"] = additional
    if resources:
        entry["resources"] = resources
    return entry


def wants_response(event_name: str) -> bool:
    """Whether responseElements are kept: what changed state, and the Cognito calls that name an identity."""
    return not read_only(event_name) or event_name in _WITH_RESPONSE
