"""A local AWS for Photoshare: moto plus a faithful Cognito identity pool and
IAM enforcement layer. See the README's "The sandbox" section."""
