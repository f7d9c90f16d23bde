from django.urls import path

from compliance import views

app_name = "compliance"
urlpatterns = [
    path("privacy/", views.privacy, name="privacy"),
    path("privacy/retention/", views.retention, name="retention"),
    path("privacy/requests/", views.dsar, name="dsar"),
    path("privacy/audit/", views.audit_checkpoint, name="audit_checkpoint"),
    path("legal/<slug:slug>/", views.legal, name="legal"),
    path("privacy/audit/checkpoint.json", views.audit_checkpoint_json, name="audit_checkpoint_json"),
    path("privacy/verify-certificate/", views.verify_certificate, name="verify_certificate"),
    path("privacy/requests/<uuid:request_id>/", views.dsar_verify, name="dsar_verify"),
    path("privacy/requests/<uuid:request_id>/confirm/", views.dsar_confirm, name="dsar_confirm"),
    path("privacy/sub-processors/", views.subprocessors, name="subprocessors"),
    path(
        "privacy/sub-processors/<slug:slug>/object/",
        views.subprocessor_objection,
        name="subprocessor_objection",
    ),
    path("privacy/exports/<str:token>/", views.export_download, name="export_download"),
    path("privacy/certificates/<str:token>/", views.certificate_pdf, name="certificate_pdf"),
    path("privacy/consent/history.json", views.consent_history, name="consent_history"),
    path("privacy/consent/withdraw/", views.withdraw_consent, name="withdraw_consent"),
    path("privacy/my-data.zip", views.my_data_export, name="my_data_export"),
    path("privacy/dpa/<slug:slug>.pdf", views.dpa_pdf, name="dpa_pdf"),
    path("privacy/dpa/<slug:slug>/accept/", views.dpa_accept, name="dpa_accept"),
    path("privacy/staff/records-of-processing.pdf", views.ropa_pdf, name="ropa_pdf"),
    path("privacy/staff/records-of-processing.csv", views.ropa_csv, name="ropa_csv"),
    path("privacy/staff/dpia.pdf", views.dpia_pdf, name="dpia_pdf"),
    path(
        "privacy/staff/certificates/<uuid:certificate_id>.pdf",
        views.staff_certificate_pdf,
        name="staff_certificate_pdf",
    ),
]
