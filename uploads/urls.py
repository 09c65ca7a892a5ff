from django.urls import path

from uploads import views

app_name = "uploads"

urlpatterns = [
    path("", views.gallery, name="gallery"),
    path("upload/", views.upload, name="upload"),
    path("<uuid:photo_id>/", views.photo, name="photo"),
]
