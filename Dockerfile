# One image for both services of docker-compose.yml: `web` (gunicorn with the
# production settings) and `sandbox` (the local AWS); docker/entrypoint.sh
# picks by its argument. Build: docker compose build (or docker build -t photoshare .).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    PHOTOSHARE_VAR_DIR=/data \
    STATIC_ROOT=/app/staticfiles

WORKDIR /app

# The pinned tree, wheels only: every pin has a wheel for this platform
# (psycopg through psycopg-binary), so no compiler or header package is ever
# installed, and none is left in the image. No apt-get at all.
COPY requirements.txt .
RUN pip install --only-binary=:all: -r requirements.txt

# The app runs as an unprivileged user that owns nothing but its data
# directory (/data, a named volume: the deployment IDs, the sandbox's state);
# the code stays root's, read-only to the app.
RUN useradd --system --uid 10001 --user-group --home-dir /app --no-create-home --shell /usr/sbin/nologin photoshare \
    && mkdir /data && chown photoshare:photoshare /data && chmod 0700 /data

COPY . .

# Static files under hashed names, baked into the image (outside the /data
# volume, so a new image never serves an old volume's copies). The secret and
# host only let the production settings load for this one command.
RUN DJANGO_SETTINGS_MODULE=photoshare.settings.production DJANGO_SECRET_KEY=collectstatic-at-build-time-only \
    ALLOWED_HOSTS=build.invalid python manage.py collectstatic --noinput --verbosity 0

USER photoshare
EXPOSE 8000 4566
ENTRYPOINT ["sh", "docker/entrypoint.sh"]
CMD ["web"]
