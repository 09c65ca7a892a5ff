"""The provider's signing key across restarts with a data directory: the
same kid, and an ID token issued before the restart still verifies after."""

from __future__ import annotations

import stat

import jwt
import pytest
import requests

from sandbox.oidc.keys import KEY_FILE, signing_key_load
from sandbox.persistence import DamagedState
from sandbox.server import SandboxServer
from tests.sandbox.oidc.conftest import APP, CLIENTS, TIMEOUT, Flow
from tests.sandbox_kit import start_kit


def test_keys_survive_a_restart_with_data_dir(tmp_path):
    data = tmp_path / "data"
    with start_kit(data_dir=data, oidc_clients=CLIENTS) as kit:
        issuer = f"{kit.endpoint}/_sandbox/oidc"
        before = requests.get(f"{issuer}/jwks.json", timeout=TIMEOUT).json()["keys"]
        id_token = Flow(issuer=issuer).tokens()["id_token"]
    assert stat.S_IMODE((data / KEY_FILE).stat().st_mode) == 0o600
    with start_kit(data_dir=data, oidc_clients=CLIENTS) as kit:
        after = requests.get(f"{kit.endpoint}/_sandbox/oidc/jwks.json", timeout=TIMEOUT).json()["keys"]
    assert after == before
    key = jwt.PyJWK(after[0]).key
    # The port (so the issuer) changed; the signature, which is what the key decides, still verifies.
    assert jwt.decode(id_token, key, algorithms=["RS256"], audience=APP, options={"verify_iss": False})["aud"] == APP


def test_without_data_dir_each_run_has_a_new_key():
    kids = []
    for _ in range(2):
        with start_kit() as kit:
            kids.append(requests.get(f"{kit.endpoint}/_sandbox/oidc/jwks.json", timeout=TIMEOUT).json()["keys"][0]["kid"])
    assert kids[0] != kids[1]


def test_a_loose_key_file_is_tightened(tmp_path):
    signing_key_load(tmp_path)
    (tmp_path / KEY_FILE).chmod(0o644)
    signing_key_load(tmp_path)
    assert stat.S_IMODE((tmp_path / KEY_FILE).stat().st_mode) == 0o600


def test_a_damaged_key_file_stops_the_sandbox_from_starting(tmp_path):
    """Replacing it would silently invalidate every token: refused, the directory released."""
    data = tmp_path / "data"
    with start_kit(data_dir=data):
        pass
    (data / KEY_FILE).write_bytes(b"-----BEGIN PRIVATE KEY-----\nbroken\n-----END PRIVATE KEY-----\n")
    with pytest.raises(DamagedState, match=KEY_FILE):
        SandboxServer(port=0, data_dir=data)
    (data / KEY_FILE).unlink()
    with start_kit(data_dir=data):  # the directory was released: it starts now, with a new key
        assert (data / KEY_FILE).exists()
