"""What the sandbox adds to moto's S3: `actions` (the IAM actions and ARNs a
REST request needs) and `cors` (answers exactly as the bucket's rules say)."""
