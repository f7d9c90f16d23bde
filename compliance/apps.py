from django.apps import AppConfig


class ComplianceConfig(AppConfig):
    name = "compliance"
    verbose_name = "Compliance"

    def ready(self) -> None:
        from compliance.erasers import erase_compliance_data, export_compliance_data
        from compliance.services import register_eraser, register_exporter

        register_eraser("compliance", erase_compliance_data)
        register_exporter("compliance", export_compliance_data)
