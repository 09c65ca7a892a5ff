"""Settings per environment: `development` (the default in manage.py),
`production` (passes `manage.py check --deploy`), and `test`."""
