"""Amazon Cognito Identity (identity pools), which the sandbox serves itself,
laid out as moto lays out a service:

- `models`: pools, identities and linked logins (the process's state);
- `logins`: verifying the ID tokens presented in `Logins`;
- `oidc`: an OpenID Connect provider's tokens, and the one bounded fetch of its keys;
- `roles`: which role a login gets (pure functions of mapping and claims);
- `developer`: developer-authenticated identities (apps that sign people in
  themselves) and the pool's own tokens presented back in `Logins`;
- `responses`: the operations and their parameter checks;
- `exceptions`: the errors, worded as AWS's.
"""
