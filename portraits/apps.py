from django.apps import AppConfig


class PortraitsConfig(AppConfig):
    name = "portraits"
    verbose_name = "Portraits"

    def ready(self) -> None:
        from django.core import checks

        from compliance.services import register_eraser, register_exporter
        from portraits.keystore import check_keystore_is_volatile
        from portraits.payments.subject_data import erase_subject_purchases, export_subject_purchases
        from portraits.payments.webhooks import register_purchase_handlers
        from portraits.subject_data import erase_subject_portraits, export_subject_portraits

        register_eraser("portraits", erase_subject_portraits)
        register_exporter("portraits", export_subject_portraits)
        # Before the portraits eraser (order 50), which cuts job links the purchase eraser follows.
        register_eraser("purchases", erase_subject_purchases, order=40)
        register_exporter("purchases", export_subject_purchases)
        register_purchase_handlers()
        checks.register(check_keystore_is_volatile, checks.Tags.security, deploy=True)
