#!/bin/sh
# The image's entry point (see Dockerfile): `web` (the default) or `sandbox`,
# anything else runs as given (e.g. `docker compose run --rm web python manage.py doctor`).
set -eu

case "${1:-web}" in
web)
    # Every start brings the database up to date, then (locally) the
    # deployment: provision repairs what is missing and changes nothing
    # otherwise, so a restart is safe. The cache table holds the rate-limit
    # counters every worker shares.
    python manage.py migrate --noinput
    python manage.py createcachetable
    if [ "${PHOTOSHARE_AWS:-local}" = local ]; then
        python manage.py provision
        python manage.py seed_demo_users
    else
        # On AWS the server runs with its least-privilege policy
        # (var/server-policy-aws.json), which cannot create pools or roles:
        # an administrator provisions once, with their own credentials.
        echo "PHOTOSHARE_AWS=aws: not provisioning at start (run \`manage.py provision\` once as an administrator)."
    fi
    exec python -m gunicorn -c gunicorn.conf.py photoshare.wsgi
    ;;
sandbox)
    # 0.0.0.0 inside the container, so `web` reaches it as sandbox:4566;
    # docker-compose.yml publishes it on the host's loopback only.
    exec python -m sandbox --host 0.0.0.0 --port "${SANDBOX_PORT:-4566}" --data-dir /data/sandbox
    ;;
*)
    exec "$@"
    ;;
esac
