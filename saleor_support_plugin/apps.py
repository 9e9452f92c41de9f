from django.apps import AppConfig


class SupportConfig(AppConfig):
    name = "saleor_support_plugin"
    label = "support"
    verbose_name = "Saleor support"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Importing the Celery app here makes `delay_on_commit` use our configuration in every process.
        from saleor_support_plugin.project import celery  # noqa: F401
