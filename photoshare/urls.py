from django.contrib import admin
from django.urls import include, path

from accounts.views import api_credentials
from photoshare.views import home

urlpatterns = [
    path("", home, name="home"),
    path("accounts/", include("accounts.urls")),
    path("api/credentials", api_credentials, name="api-credentials"),
    path("admin/", admin.site.urls),
]
