from django.core.management.base import BaseCommand

from analysis.dispatch import analysis_resume_unfinished


class Command(BaseCommand):
    help = "Re-dispatch analysis that never finished (e.g. the server stopped mid-way)."

    def handle(self, *args, **options):
        count = analysis_resume_unfinished()
        self.stdout.write(f"Resumed the analysis of {count} recording(s).")
