"""Forms for the account pages. Cognito enforces the password policy; these
only check shape, so a bad value never reaches AWS."""

from __future__ import annotations

from django import forms

EMAIL_MAX = 254  # characters, RFC 5321
PASSWORD_MAX = 256  # characters, Cognito's limit


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
        help_text="At least 12 characters, with upper- and lower-case letters, a number and a symbol.",
    )


class _CodeForm(_EmailForm):
    code = forms.RegexField(
        regex=r"^\d{6}$",
        max_length=6,
        error_messages={"invalid": "The code is the six digits in the email."},
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
        label="New password",
        max_length=PASSWORD_MAX,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="At least 12 characters, with upper- and lower-case letters, a number and a symbol.",
    )
