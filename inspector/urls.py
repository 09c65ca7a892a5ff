"""The inspector's page and its JSON routes (included by photoshare/urls.py
before the API's catch-all 404). Request ids are matched as any segment so
that a malformed one reaches the view and gets a JSON 400."""

from django.urls import path

from inspector import views

urlpatterns = [
    path("how-it-works/", views.how_it_works, name="how-it-works"),
    path("api/inspector/issue", views.api_issue, name="api-inspector-issue"),
    path("api/inspector/decisions/<str:request_id>", views.api_decision, name="api-inspector-decision"),
]
