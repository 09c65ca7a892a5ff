"""What the sandbox adds to moto's user pools (Amazon Cognito user pools):
`keys` (each pool's own signing key), `secret_hash` (the SECRET_HASH rule)
and `codes` (the emailed codes and the outbox). moto serves the rest; the
patches that wire these in are in `sandbox/moto_seams/cognitoidp.py`."""
