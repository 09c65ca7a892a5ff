from django.contrib import admin
from django.urls import include, path

from accounts.views import api_credentials
from photoshare.views import home
from uploads.views import api_photos

urlpatterns = [
    path("", home, name="home"),
    path("accounts/", include("accounts.urls")),
    path("photos/", include("uploads.urls")),
    path("api/credentials", api_credentials, name="api-credentials"),
    path("api/photos", api_photos, name="api-photos"),
    path("admin/", admin.site.urls),
]
