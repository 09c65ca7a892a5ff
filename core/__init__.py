"""What the apps share: the AWS client factory and its errors, the deployment
IDs, settings helpers and the JSON HTTP helpers. It imports no other app."""
