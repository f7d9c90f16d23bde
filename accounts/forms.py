"""Forms of the accounts and teams pages. Labels and hints are written for people, not for Django."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import password_validation

from accounts.models import Organisation, Role, User

MAX_CSV_BYTES = 512 * 1024


class SignUpForm(forms.Form):
    first_name = forms.CharField(label="Your name", max_length=150, required=False)
    email = forms.EmailField(label="Email address", widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    password = forms.CharField(
        label="Password",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="At least 10 characters; not a common password.",
    )

    def clean_email(self) -> str:
        # No check for an existing account here: the form must not tell who has one
        # (services.sign_up emails the owner instead).
        return str(self.cleaned_data["email"]).strip().lower()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("password"):
            candidate = User(email=data.get("email", ""), username=data.get("email", ""))
            try:
                password_validation.validate_password(data["password"], candidate)
            except forms.ValidationError as error:
                self.add_error("password", error)
        return data


class LoginForm(forms.Form):
    email = forms.EmailField(label="Email address", widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    password = forms.CharField(
        label="Password", strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )


class CodeForm(forms.Form):
    code = forms.CharField(
        label="Code",
        max_length=20,
        help_text="The 6-digit code from your authenticator app, or one of your backup codes.",
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "text", "autofocus": True}
        ),
    )


class ClaimForm(forms.Form):
    token = forms.CharField(
        label="Private job reference",
        max_length=100,
        help_text="Shown on your results page, or the token the API gave you when you uploaded.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )


class RetentionForm(forms.Form):
    days = forms.TypedChoiceField(label="Keep results for", coerce=int, choices=())

    def __init__(self, *args: Any, choices_days: list[int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["days"].choices = [(days, f"{days} days") for days in choices_days]  # type: ignore[attr-defined]


class PasswordConfirmForm(forms.Form):
    password = forms.CharField(
        label="Your password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text="To make sure it is you.",
    )


class OrganisationCreateForm(forms.Form):
    name = forms.CharField(label="Organisation name", max_length=200)


class OrganisationSettingsForm(forms.ModelForm):
    backdrop_colours_text = forms.CharField(
        label="Backdrop colours",
        help_text="One to four colours like #d9dee5, separated by commas, from centre to edge.",
        max_length=60,
    )

    class Meta:
        model = Organisation
        fields = [
            "name",
            "attire_prompt",
            "aspect",
            "output_format",
            "output_long_side",
            "approved_retention_months",
            "unapproved_retention_days",
        ]
        labels = {
            "attire_prompt": "Attire",
            "output_long_side": "Output size (long side, pixels)",
            "approved_retention_months": "Keep approved headshots for (months)",
            "unapproved_retention_days": "Delete other portraits after (days)",
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["backdrop_colours_text"].initial = ", ".join(self.instance.backdrop_colours or [])

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        colours = [part.strip() for part in data.get("backdrop_colours_text", "").split(",") if part.strip()]
        self.instance.backdrop_colours = colours
        try:
            self.instance.full_clean(exclude=["slug"])
            self.instance.brand_style()
        except forms.ValidationError as error:
            if hasattr(error, "error_dict") and "backdrop_colours" in error.error_dict:
                self.add_error("backdrop_colours_text", error.error_dict["backdrop_colours"])
        except ValueError as error:
            self.add_error(None, f"This brand style cannot be used: {error}")
        return data


class InviteForm(forms.Form):
    email = forms.EmailField(label="Email address")
    role = forms.ChoiceField(
        label="Role", choices=[(Role.MEMBER, "Member"), (Role.ADMIN, "Admin")], initial=Role.MEMBER
    )


class InviteCsvForm(forms.Form):
    csv_file = forms.FileField(
        label="CSV file", help_text="A header row with 'email' and, optionally, 'role' (member or admin)."
    )

    def clean_csv_file(self) -> str:
        upload = self.cleaned_data["csv_file"]
        if upload.size > MAX_CSV_BYTES:
            raise forms.ValidationError("The file is too large (512 KB at most).")
        try:
            return upload.read().decode("utf-8")
        except UnicodeDecodeError:
            raise forms.ValidationError("Save the file as UTF-8 CSV and try again.") from None


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        label="Token name", max_length=100, help_text="For example the HR system using it."
    )


class MemberConsentForm(forms.Form):
    consent = forms.BooleanField(
        label="I give my explicit consent to process my photo as described above.", required=True
    )
    signature = forms.CharField(label="Type your full name as your signature", max_length=200)
    consent_version = forms.IntegerField(widget=forms.HiddenInput)


class MemberUploadForm(forms.Form):
    photo = forms.FileField(label="Your photo", help_text="JPEG, PNG, WebP or HEIC; one face, well lit.")


class FavouriteForm(forms.Form):
    portrait = forms.UUIDField(label="Your favourite")


class RedoForm(forms.Form):
    note = forms.CharField(label="What should change?", max_length=300, required=False)
