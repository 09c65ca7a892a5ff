"""Workshop labs (issue 15): each lab breaks the deployment in one way that
real identity-pool deployments have been broken, attacks it as an outsider
would, and lets `doctor` name it. The lab READMEs are in the repository's
`labs/` folder; this package is named `workshop` so the two do not clash."""
