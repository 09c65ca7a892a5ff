"""A local AWS for Photoshare: moto plus a faithful Cognito identity pool and
IAM enforcement, on one endpoint. Laid out as moto lays itself out, one
package per emulated service:

- `server.py`: `SandboxServer`, `running()` (in a thread, for tests), `free_port()`;
  `__main__.py` is `python -m sandbox`;
- `gateway/`: the WSGI application in front of moto, one module per step:
  `request` (what a request is, decided once, and the request moto is handed),
  `authentication` (SigV4, keys, principals), `authorization` (IAM, enforcing),
  `routing` (the steps in order; ours or moto's; CORS), `api_cors` (CORS for
  the APIs other than S3), `outbox`, `faults`,
  `decisions` and `inspection` (`/_sandbox/decisions/<request id>`, `/_sandbox/trail`);
- `trail/`: CloudTrail-style `records` and their `store` (memory, day files);
- `cognito_identity/`: identity pools, served by us (`models`, `logins`,
  `roles`, `scope_down` (the guests' session policies), `responses`, `exceptions`);
- `cognito_idp/`: what we add to moto's user pools (`keys`, `secret_hash`, `codes`);
- `sts/`: identity-pool `sessions`, `session_policies`, `assume_role`, and the
  classic flow (`web_identity`);
- `s3/`: the IAM `actions` a REST request needs (with its tag condition keys),
  `cors`, `checksums` (the body against its digests) and `preconditions`
  (conditional writes);
- `moto_seams/`: every touch of moto's internals, one module per moto service,
  applied once by `moto_seams.install()` at start-up;
- `sigv4.py` (Signature Version 4) and `errors.py` (each protocol's error
  format), shared by every service; `persistence.py`, the data directory.

IAM policies are evaluated by the stdlib-only `iampolicy` package, which
`doctor` uses too, in audit mode. See the README's "The sandbox" section.
"""
