from django.urls import path
from django.views.generic import TemplateView

app_name = "compliance"
# Public pages; the compliance module fills these in.
urlpatterns = [
    path("privacy/", TemplateView.as_view(template_name="compliance/privacy.html"), name="privacy"),
    path("privacy/retention/", TemplateView.as_view(template_name="compliance/privacy.html"), name="retention"),
    path("privacy/requests/", TemplateView.as_view(template_name="compliance/privacy.html"), name="dsar"),
    path("privacy/sub-processors/", TemplateView.as_view(template_name="compliance/privacy.html"), name="subprocessors"),
]
