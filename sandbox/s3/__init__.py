"""What the sandbox adds to moto's S3: `actions` (the IAM actions and ARNs a
REST request needs, with the tag condition keys each action carries), `cors`
(answers exactly as the bucket's rules say), `checksums` (`Content-MD5` and
`x-amz-checksum-*` checked against the body) and `preconditions` (conditional
writes: `If-None-Match`)."""
