from django.apps import AppConfig


class PortraitsConfig(AppConfig):
    name = "portraits"
    verbose_name = "Portraits"

    def ready(self) -> None:
        from django.core import checks

        from compliance.services import register_eraser, register_exporter
        from portraits.keystore import check_keystore_is_volatile
        from portraits.services import erase_subject_portraits, export_subject_portraits

        register_eraser("portraits", erase_subject_portraits)
        register_exporter("portraits", export_subject_portraits)
        checks.register(check_keystore_is_volatile, checks.Tags.security, deploy=True)
