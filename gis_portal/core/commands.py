"""Base of the management commands: parse arguments, call one service, turn its errors into a
non-zero exit with the reason (the service runs in its own transaction, so nothing is written)."""

from django.core.management.base import BaseCommand, CommandError

from gis_portal.core.errors import ServiceError


class ServiceCommand(BaseCommand):
    def handle(self, *args, **options):
        try:
            result = self.run(**options)
        except ServiceError as exc:
            raise CommandError(exc.message) from exc
        if result is not None:
            self.stdout.write(str(result))

    def run(self, **options):
        raise NotImplementedError
