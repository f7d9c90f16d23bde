"""Public forms: data rights requests and their verification."""

from __future__ import annotations

from django import forms

from compliance.models import DsarType, Jurisdiction


class DsarForm(forms.Form):
    email = forms.EmailField(
        label="Your email address",
        help_text="We send a code here to check it is yours. Use your account's address, if you have one.",
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    request_type = forms.ChoiceField(
        label="What would you like us to do?", choices=DsarType.choices, widget=forms.RadioSelect
    )
    jurisdiction = forms.ChoiceField(
        label="Where do you live?",
        choices=Jurisdiction.choices,
        initial=Jurisdiction.UNKNOWN,
        required=False,
        help_text="This only sets the legal deadline; we answer everyone as fast as we can.",
    )
    job_reference = forms.CharField(
        label="Private job reference (optional)",
        required=False,
        max_length=200,
        help_text="Used the site without an account? Paste the private job reference shown on your results "
        "page (and on your deletion receipt) so we can find your portraits and your consent record.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    details = forms.CharField(
        label="Anything else we should know (optional)",
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="For a correction or an objection, tell us what it is about.",
    )


class VerifyForm(forms.Form):
    code = forms.CharField(
        label="Code from the email",
        max_length=12,
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "pattern": "[0-9]*"}
        ),
    )


class CertificateCheckForm(forms.Form):
    certificate_id = forms.UUIDField(
        label="Certificate id",
        help_text="The id at the top of the deletion certificate.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    event_hash = forms.RegexField(
        label="Event hash",
        regex=r"^\s*[0-9a-fA-F]{64}\s*$",
        error_messages={"invalid": "The event hash is 64 characters, digits 0-9 and letters a-f."},
        help_text="The 64-character hash under “Evidence in the audit log” on the certificate.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
