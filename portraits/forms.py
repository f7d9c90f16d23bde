from __future__ import annotations

from django import forms

from gpu_worker.styles import BUILTIN_STYLES


class UploadForm(forms.Form):
    """Field checks only; photo validation and the consent act are checked by the service."""

    style = forms.ChoiceField(
        choices=[(style.slug, style.name) for style in BUILTIN_STYLES.values()],
        widget=forms.RadioSelect,
        initial="corporate-grey",
    )
    consent = forms.BooleanField(required=False)
    signature = forms.CharField(max_length=200, required=False)
    consent_version = forms.IntegerField(widget=forms.HiddenInput)


class ResultsEmailForm(forms.Form):
    email = forms.EmailField(
        label="Your e-mail address",
        max_length=254,
        help_text="One e-mail with a link to these portraits. Your address is deleted with them.",
    )
