"""The password policy the forms check before Cognito, so sign-up and reset
answer a weak password alike whether or not the account exists."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from accounts.forms import PASSWORD_MIN, SignUpForm, password_policy_check
from infra.provision import PASSWORD_POLICY


def test_the_forms_check_the_policy_provision_gives_the_pool():
    """accounts.forms and infra/provision.py PASSWORD_POLICY agree (length and every required class)."""
    assert PASSWORD_POLICY["MinimumLength"] == PASSWORD_MIN
    assert all(PASSWORD_POLICY[f"Require{kind}"] for kind in ("Uppercase", "Lowercase", "Numbers", "Symbols"))


# password -> whether the pool's policy accepts it.
PASSWORDS = [
    pytest.param("Fresh-Password-42!", True, id="strong"),
    pytest.param("Aa1!Aa1!Aa1!", True, id="exactly 12"),
    pytest.param("Aa1!Aa1!Aa1", False, id="11 characters"),
    pytest.param("fresh-password-42!", False, id="no upper case"),
    pytest.param("FRESH-PASSWORD-42!", False, id="no lower case"),
    pytest.param("Fresh-Password-!!", False, id="no digit"),
    pytest.param("FreshPassword42x", False, id="no symbol"),
    pytest.param("FreshPassword42é", False, id="a non-ASCII letter is not a Cognito symbol"),
    pytest.param("Fresh Password 42", True, id="a space is a Cognito symbol"),
    pytest.param("FRESHPASSWORDé42!", False, id="a non-ASCII lower-case letter does not count"),
]


@pytest.mark.parametrize("password, accepted", PASSWORDS)
def test_password_policy(password, accepted):
    """password_policy_check accepts exactly what Cognito's policy for this pool accepts."""
    if accepted:
        password_policy_check(password)
    else:
        with pytest.raises(ValidationError):
            password_policy_check(password)


def test_the_sign_up_form_refuses_a_weak_password_with_the_fixed_message():
    """A weak password is a field error on the form itself, in the words shown for Cognito's InvalidPasswordException."""
    from accounts.views import MESSAGES

    form = SignUpForm({"email": "x@example.com", "password": "weakpassword"})
    assert not form.is_valid()
    assert form.errors["password"] == [MESSAGES["InvalidPasswordException"]]
