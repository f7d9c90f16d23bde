from django.urls import path

from accounts import billing_views, passkey_views, team_views, views

app_name = "accounts"
urlpatterns = [
    path("", views.home, name="home"),
    path("signup/", views.signup, name="signup"),
    path("verify/<str:token>/", views.verify_email, name="verify_email"),
    path("verify-again/", views.resend_verification, name="resend_verification"),
    path("login/", views.login, name="login"),
    path("login/code/", views.otp_verify, name="otp_verify"),
    path("logout/", views.logout, name="logout"),
    path("password-reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path("password-reset/sent/", views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "password-reset/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("password-reset/done/", views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    path("security/", views.two_factor, name="two_factor"),
    path("security/passkeys/", passkey_views.passkey_list, name="passkeys"),
    path("security/passkeys/<int:passkey_id>/rename/", passkey_views.passkey_rename, name="passkey_rename"),
    path("security/passkeys/<int:passkey_id>/remove/", passkey_views.passkey_remove, name="passkey_remove"),
    path("claim/", views.claim, name="claim"),
    path("jobs/<uuid:job_id>/retention/", views.job_retention, name="job_retention"),
    path("jobs/<uuid:job_id>/delete/", views.job_delete, name="job_delete"),
    path("export/", views.export_data, name="export"),
    path("delete/", views.delete_account, name="delete"),
    # Teams
    path("orgs/new/", team_views.organisation_create, name="org_create"),
    path("orgs/<slug:slug>/", team_views.organisation_dashboard, name="org_dashboard"),
    path("orgs/<slug:slug>/settings/", team_views.organisation_settings, name="org_settings"),
    path("orgs/<slug:slug>/invite/", team_views.invite, name="org_invite"),
    path("orgs/<slug:slug>/invite/csv/", team_views.invite_csv, name="org_invite_csv"),
    path(
        "orgs/<slug:slug>/invitations/<int:invitation_id>/resend/",
        team_views.invitation_resend,
        name="org_invitation_resend",
    ),
    path(
        "orgs/<slug:slug>/invitations/<int:invitation_id>/revoke/",
        team_views.invitation_revoke,
        name="org_invitation_revoke",
    ),
    path(
        "orgs/<slug:slug>/members/<int:membership_id>/remind/",
        team_views.member_remind,
        name="org_member_remind",
    ),
    path(
        "orgs/<slug:slug>/members/<int:membership_id>/remove/",
        team_views.member_remove,
        name="org_member_remove",
    ),
    path(
        "orgs/<slug:slug>/submissions/<int:submission_id>/approve/",
        team_views.submission_approve,
        name="org_submission_approve",
    ),
    path(
        "orgs/<slug:slug>/submissions/<int:submission_id>/redo/",
        team_views.submission_redo,
        name="org_submission_redo",
    ),
    path("orgs/<slug:slug>/headshots.zip", team_views.export_zip, name="org_export"),
    path("orgs/<slug:slug>/tokens/", team_views.api_tokens, name="org_tokens"),
    path(
        "orgs/<slug:slug>/tokens/<int:token_id>/revoke/", team_views.api_token_revoke, name="org_token_revoke"
    ),
    path("orgs/<slug:slug>/delete/", team_views.organisation_delete, name="org_delete"),
    path("orgs/<slug:slug>/billing/", billing_views.billing_page, name="org_billing"),
    path("orgs/<slug:slug>/billing/seats/", billing_views.change_seats, name="org_billing_seats"),
    path("orgs/<slug:slug>/billing/cancel/", billing_views.cancel_plan, name="org_billing_cancel"),
    path("orgs/<slug:slug>/billing/portal/", billing_views.customer_portal, name="org_billing_portal"),
    path("invitations/<str:token>/", team_views.invitation, name="invitation"),
    path("teams/<slug:slug>/", team_views.team_member, name="team_member"),
]
