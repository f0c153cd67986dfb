from gis_portal.core.commands import ServiceCommand
from gis_portal.jobs.worker import worker_main


class Command(ServiceCommand):
    help = "Run a job worker (procrastinate) on the jobs queue until SIGTERM or SIGINT."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--name", default=None, help="the worker's name in procrastinate_workers")
        parser.add_argument("--concurrency", type=int, default=1, help="jobs run at once (threads)")

    def run(self, *, name=None, concurrency=1, **options) -> None:
        worker_main(name=name, concurrency=concurrency)
