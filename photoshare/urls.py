"""The site's URLs: each app's pages under its own prefix, and each app's
JSON API under /api/, from the app's own urls.py."""

from django.contrib import admin
from django.urls import include, path

from accounts.urls import api_urlpatterns as accounts_api
from photoshare.views import home
from uploads.api_urls import not_found_urlpatterns as api_not_found
from uploads.api_urls import urlpatterns as uploads_api

urlpatterns = [
    path("", home, name="home"),
    path("accounts/", include("accounts.urls")),
    path("photos/", include("uploads.urls")),
    path("teams/", include("uploads.team_urls")),
    path("albums/", include("albums.urls")),
    path("api/", include(accounts_api)),
    path("api/", include(uploads_api)),
    path("", include("inspector.urls")),
    path("api/", include(api_not_found)),
    path("admin/", admin.site.urls),
]
