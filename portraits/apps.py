from django.apps import AppConfig


class PortraitsConfig(AppConfig):
    name = "portraits"
    verbose_name = "Portraits"
