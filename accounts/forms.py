"""Forms for the account pages. They check shape, so a bad value never
reaches AWS, and new passwords against the pool's policy (see below)."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

EMAIL_MAX = 254  # characters, RFC 5321
PASSWORD_MAX = 256  # characters, Cognito's limit

# The user pool's policy, as infra/provision.py PASSWORD_POLICY sets it (a test
# keeps them equal). Cognito enforces it too, but checks whether the account
# exists first: a weak password would be refused for a new address and
# "accepted" for a taken one, which tells the two apart. Checked here, it gets
# the same answer for both.
PASSWORD_MIN = 12  # characters
# The characters Cognito counts as symbols (Cognito developer guide, "Password requirements").
COGNITO_SYMBOLS = frozenset("^$*.[]{}()?\"!@#%&/\\,><':;|_~`=+- ")
WEAK_PASSWORD = _(
    "That password is too weak: use at least 12 characters with upper- and lower-case letters, a number and a symbol."
)
PASSWORD_HELP = _("At least 12 characters, with upper- and lower-case letters, a number and a symbol.")


def password_policy_check(password: str) -> None:
    if not (
        len(password) >= PASSWORD_MIN
        and any(c.isascii() and c.isupper() for c in password)
        and any(c.isascii() and c.islower() for c in password)
        and any(c.isascii() and c.isdigit() for c in password)
        and any(c in COGNITO_SYMBOLS for c in password)
    ):
        raise ValidationError(WEAK_PASSWORD, code="weak")


class _EmailForm(forms.Form):
    email = forms.EmailField(max_length=EMAIL_MAX, widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}))

    def clean_email(self) -> str:
        return self.cleaned_data["email"].strip().lower()


class SignInForm(_EmailForm):
    password = forms.CharField(
        max_length=PASSWORD_MAX, strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )


class SignUpForm(_EmailForm):
    password = forms.CharField(
        max_length=PASSWORD_MAX,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=PASSWORD_HELP,
        validators=[password_policy_check],
    )


class _CodeForm(_EmailForm):
    code = forms.RegexField(
        regex=r"^\d{6}$",
        max_length=6,
        error_messages={"invalid": _("The code is the six digits in the email.")},
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


class ConfirmForm(_CodeForm):
    pass


class ResendForm(_EmailForm):
    pass


class PasswordForgotForm(_EmailForm):
    pass


class PasswordResetForm(_CodeForm):
    password = forms.CharField(
        label=_("New password"),
        max_length=PASSWORD_MAX,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=PASSWORD_HELP,
        validators=[password_policy_check],
    )


class SignInLinkForm(_EmailForm):
    """"Email me a sign-in link": the address only."""
