"""Who can sign in: anyone. The demo people are listed on the sign-in page,
and any other address can be typed in; there is no password, because this
provider stands in for Google or a company's SSO, whose sign-in is not what
Photoshare teaches.

`sub` is the subject identifier OIDC requires to be stable and never reused
(Core 1.0 section 2): here a hash of the lower-cased address, the same on
every run and every machine, so a person keeps their identity (and their
photos) across sandbox restarts even without `--data-dir`. It says nothing
readable about the address, as Google's numeric `sub` does not.

`hd` is Google's hosted-domain claim: present only for accounts of a
Workspace organization. Here that is every address whose domain is exactly
one of the configured hosted domains (by default `wintercorp.com`), never a
subdomain or a look-alike (`wintercorp.com.evil.example`).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

DEFAULT_HOSTED_DOMAINS = ("wintercorp.com",)
MAX_EMAIL = 254  # characters, RFC 5321's limit on a path
# Deliberately narrower than RFC 5322: ASCII, one '@', a dotted domain of letters, digits and hyphens.
_EMAIL = re.compile(r"[a-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}")
_SUB_NAMESPACE = b"photoshare-sandbox-oidc-sub:"


@dataclass(frozen=True)
class Person:
    email: str
    name: str


DEMO_PEOPLE = (
    Person("dana@wintercorp.com", "Dana (Winter Corp)"),
    Person("erin@wintercorp.com", "Erin (Winter Corp)"),
    Person("frank@example.org", "Frank (example.org)"),
)


def email_normalize(value: str) -> str | None:
    """The address in lower case, or None when it will not do."""
    email = value.strip().lower()
    if len(email) > MAX_EMAIL or not _EMAIL.fullmatch(email) or ".." in email or email.startswith("."):
        return None
    return email


def subject_of(email: str) -> str:
    """A 21-digit `sub`, shaped like Google's, stable per address."""
    digest = hashlib.sha256(_SUB_NAMESPACE + email.encode()).digest()
    return str(int.from_bytes(digest[:9], "big") % 10**21).zfill(21)


def hosted_domain_of(email: str, hosted_domains: Iterable[str]) -> str | None:
    domain = email.rpartition("@")[2]
    return domain if domain in hosted_domains else None


def hosted_domain_parse(value: str) -> str:
    """A configured hosted domain, lower case; ValueError when it is not a domain."""
    domain = value.strip().lower()
    if email_normalize(f"x@{domain}") is None:
        raise ValueError(f"{value!r} is not a domain name")
    return domain
