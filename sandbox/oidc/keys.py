"""The provider's signing key: one RSA key pair (the user pools' own
`SigningKey`, kid = RFC 7638 thumbprint), kept in `<data dir>/oidc-key.pem`
so ID tokens issued before a restart still verify after it, and a relying
party's cached JWKS stays right.

The file holds a private key, so it is written as the persistence module
writes its state: atomically and mode 0600 (a file found looser is
tightened, with a warning). A file that is not a key is refused at start-up
rather than replaced: replacing it would silently invalidate every token.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from sandbox.cognito_idp.keys import SigningKey
from sandbox.persistence import FILE_MODE, DamagedState, _tighten, _write_atomically

log = logging.getLogger("sandbox.oidc")

KEY_FILE = "oidc-key.pem"


def signing_key_load(data_dir: Path | None) -> SigningKey | Callable[[], SigningKey]:
    """The data directory's key (made and saved on first start); without a
    directory, how to make one for this run only, when first needed."""
    if data_dir is None:
        return SigningKey.generate
    path = Path(data_dir) / KEY_FILE
    try:
        pem = path.read_bytes()
    except FileNotFoundError:
        key = SigningKey.generate()
        _write_atomically(path, [key.private_pem])
        return key
    if _tighten(path, FILE_MODE):
        log.warning("%s was readable by other users; its mode is now 0600", path)
    try:
        loaded = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        raise DamagedState(f"{path} is not a PEM private key ({exc})") from None
    if not isinstance(loaded, rsa.RSAPrivateKey):
        raise DamagedState(f"{path} is not an RSA private key")
    return SigningKey(private_pem=pem, _private=loaded)
