
from accounts.management.base import PortalCommand
from analysis.dispatch import analysis_resume_unfinished


class Command(PortalCommand):
    help = "Re-dispatch analysis that never finished (e.g. the server stopped mid-way)."

    def handle(self, *args, **options):
        count = analysis_resume_unfinished()
        self.stdout.write(f"Resumed the analysis of {count} recording(s).")
