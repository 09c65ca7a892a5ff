"""The photo API's routes, included by photoshare/urls.py under /api/.

Photo IDs are matched as any segment, not as <uuid:>, so a malformed ID
reaches the view and gets the same JSON 404 as an unknown one. The last
route answers every other /api/ path with JSON too."""

from django.urls import path, re_path

from uploads import api

urlpatterns = [
    path("photos", api.photos, name="api-photos"),
    path("photos/public", api.photos_published, name="api-photos-public"),
    path("photos/<str:photo_id>", api.photo, name="api-photo"),
    path("photos/<str:photo_id>/publish", api.publish, name="api-photo-publish"),
    path("photos/<str:photo_id>/unpublish", api.unpublish, name="api-photo-unpublish"),
    path("photos/<str:photo_id>/take-down", api.take_down, name="api-photo-take-down"),
    path("photos/<str:photo_id>/recheck", api.recheck, name="api-photo-recheck"),
    path("teams/<str:team>/photos", api.team_photos, name="api-team-photos"),
]

# Included last, after every app's API routes.
not_found_urlpatterns = [re_path(r"^(?P<rest>.*)$", api.not_found)]
