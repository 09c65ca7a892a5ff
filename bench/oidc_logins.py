"""What verifying an OpenID Connect token costs the identity pool: `GetId`
latency with an OIDC provider's ID token against a user pool's, in one run,
and the first OIDC call of a provider, which fetches its discovery document
and JWKS over HTTP (every later call uses the keys cached by `kid`).

Everything is in this process: the sandbox on 127.0.0.1, a test OIDC issuer
on 127.0.0.1 (`tests/sandbox/cognito_identity/issuer.py`), and one identity
pool trusting both. Each round times the two kinds of call alternately, so a
busy machine weighs on both alike; every call is a fresh token of the same
user, as a sign-in hands the app a new one.

    .venv/bin/python bench/oidc_logins.py [--calls 200]"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.sandbox.cognito_identity.issuer import issuer_running  # noqa: E402  (needs REPO on sys.path)
from tests.sandbox_kit import start_kit  # noqa: E402

WARMUP = 20  # calls of each kind before timing
CLIENT_ID = "photoshare-web"


def percentile(samples: list[float], fraction: float) -> float:
    """Nearest-rank percentile of `samples`."""
    ordered = sorted(samples)
    return ordered[max(0, min(len(ordered) - 1, round(fraction * len(ordered) + 0.5) - 1))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200, help="timed calls of each kind (default 200)")
    args = parser.parse_args()
    if args.calls < 1:
        parser.error("--calls must be at least 1")
    logging.disable(logging.INFO)

    with start_kit() as kit, issuer_running() as issuer:
        dep = kit.deployment(users=("alice",))
        arn = kit.client("iam").create_open_id_connect_provider(Url=issuer.url, ClientIDList=[CLIENT_ID])["OpenIDConnectProviderArn"]
        description = kit.client("cognito-identity").describe_identity_pool(IdentityPoolId=dep.identity_pool_id)
        description.pop("ResponseMetadata")
        kit.client("cognito-identity").update_identity_pool(**{**description, "OpenIdConnectProviderARNs": [arn]})
        ci = kit.unsigned("cognito-identity")

        def user_pool_call() -> float:
            logins = dep.logins(dep.id_token("alice"))  # signing in is not timed, only GetId
            start = time.perf_counter()
            ci.get_id(IdentityPoolId=dep.identity_pool_id, Logins=logins)
            return time.perf_counter() - start

        def oidc_call() -> float:
            logins = {issuer.name: issuer.token(aud=CLIENT_ID, sub="dana")}
            start = time.perf_counter()
            ci.get_id(IdentityPoolId=dep.identity_pool_id, Logins=logins)
            return time.perf_counter() - start

        first = oidc_call()
        fetched = issuer.hits[f"{issuer.path}/jwks"]
        for _ in range(WARMUP):
            user_pool_call()
            oidc_call()
        samples: dict[str, list[float]] = {"user pool": [], "oidc": []}
        for _ in range(args.calls):
            samples["user pool"].append(user_pool_call())
            samples["oidc"].append(oidc_call())
        refetched = issuer.hits[f"{issuer.path}/jwks"] - fetched

    print(f"GetId, {args.calls} timed calls of each kind (ms)")
    print(f"{'token':<10} {'median':>8} {'p95':>8} {'max':>8}")
    for kind, values in samples.items():
        ms = [v * 1000 for v in values]
        print(f"{kind:<10} {statistics.median(ms):8.2f} {percentile(ms, 0.95):8.2f} {max(ms):8.2f}")
    print(f"first OIDC call (discovery + JWKS fetched): {first * 1000:.2f} ms")
    print(f"JWKS fetches after the first call: {refetched}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
