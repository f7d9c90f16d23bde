from django.apps import AppConfig


class PortraitsConfig(AppConfig):
    name = "portraits"
    verbose_name = "Portraits"

    def ready(self) -> None:
        from compliance.services import register_eraser, register_exporter
        from portraits.services import erase_subject_portraits, export_subject_portraits

        register_eraser("portraits", erase_subject_portraits)
        register_exporter("portraits", export_subject_portraits)
