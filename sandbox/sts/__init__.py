"""What the sandbox adds to moto's STS: `sessions` (credentials we issued,
with the web-identity context and session policies IAM evaluates them with),
`session_policies` (`Policy` / `PolicyArns`, checked as STS checks them),
`web_identity` (the classic flow's OpenID tokens and
`AssumeRoleWithWebIdentity`) and `assume_role` (`AssumeRole`, served here so
its session policies are kept)."""
