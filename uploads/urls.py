from django.urls import path

from uploads import views

app_name = "uploads"

urlpatterns = [
    path("", views.gallery, name="gallery"),
    path("upload/", views.upload, name="upload"),
    path("<uuid:photo_id>/delete/", views.delete, name="delete"),
]

# Included by photoshare/urls.py under /api/ (outside the app's namespace).
api_urlpatterns = [
    path("photos", views.api_photos, name="api-photos"),
]
