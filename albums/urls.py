from django.urls import path

from albums import views

app_name = "albums"

urlpatterns = [
    path("", views.album_list, name="list"),
    path("<uuid:album_id>/", views.album, name="album"),
]
