from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("sign-in/", views.sign_in, name="sign-in"),
    path("sign-out/", views.sign_out, name="sign-out"),
    path("sign-up/", views.sign_up, name="sign-up"),
    path("confirm/", views.confirm, name="confirm"),
    path("confirm/resend/", views.confirm_resend, name="confirm-resend"),
    path("password-reset/", views.password_forgot, name="password-reset"),
    path("password-reset/confirm/", views.password_reset_confirm, name="password-reset-confirm"),
    path("sign-in/email-link/", views.sign_in_link_request, name="sign-in-link"),
    path("sign-in/link/", views.sign_in_link_use, name="sign-in-link-use"),
    path("oidc/start/", views.sso_start, name="oidc-start"),
    path("oidc/callback/", views.sso_callback, name="oidc-callback"),
    path("outbox/", views.outbox, name="outbox"),
]

# Included by photoshare/urls.py under /api/ (outside the app's namespace).
api_urlpatterns = [
    path("credentials", views.api_credentials, name="api-credentials"),
]
