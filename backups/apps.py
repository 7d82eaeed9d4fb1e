from django.apps import AppConfig
from django.core import serializers


class BackupsConfig(AppConfig):
    name = "backups"
    verbose_name = "Backup and restore"

    def ready(self) -> None:
        from .serializer import FORMAT

        serializers.register_serializer(FORMAT, "backups.serializer")  # dumpdata/loaddata --format fulljson
