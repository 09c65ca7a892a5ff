"""Settings for the Django server that `bench/uploads.py` runs in
a process of its own: the app's own routes, plus two that exist only here.

- `POST /bench/stream/` is the baseline: a classic upload view. The photo
  comes to Django as multipart/form-data, Django's MultiPartParser spools it
  to a temporary file (anything over FILE_UPLOAD_MAX_MEMORY_SIZE, 2.5 MB by
  default), then the server sends it on to S3 with its own credentials and
  registers it. It is what a site without scoped browser credentials does.
- `GET /bench/cpu/` answers this process's CPU seconds so far
  (`time.process_time`, every thread), which the benchmark reads before and
  after each path.

Used as DJANGO_SETTINGS_MODULE=bench.uploads_server; the routes are in
`bench/uploads_urls.py`, and the app has neither."""

from photoshare.settings.test import *  # noqa: F403  (the benchmark's environment sets the rest)

ROOT_URLCONF = "bench.uploads_urls"
