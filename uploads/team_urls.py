"""A team's pages, under /teams/ (photoshare/urls.py)."""

from django.urls import path

from uploads import views

app_name = "teams"

urlpatterns = [
    path("<str:team>/", views.team_gallery, name="gallery"),
]
