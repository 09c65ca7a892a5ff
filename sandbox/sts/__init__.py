"""What the sandbox adds to moto's STS: `sessions` (identity-pool credentials
with the web-identity context IAM evaluates them in) and `web_identity` (the
classic flow's OpenID tokens and `AssumeRoleWithWebIdentity`)."""
