from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and teams"

    def ready(self) -> None:
        from django.contrib import admin
        from django_otp.admin import OTPAdminSite

        from accounts.privacy import erase_account_data, erasure_blockers, export_account_data
        from compliance import services as compliance_services

        # The admin asks for a second factor: a password alone never opens it.
        admin.site.__class__ = OTPAdminSite
        from accounts.admin import login_through_accounts

        admin.site.login = login_through_accounts  # type: ignore[method-assign]
        compliance_services.register_eraser("accounts", erase_account_data)
        compliance_services.register_exporter("accounts", export_account_data)
        from accounts.billing import register_team_billing_handlers

        register_team_billing_handlers()
        compliance_services.register_erasure_blocker("accounts", erasure_blockers)
