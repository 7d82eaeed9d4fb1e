from django.core.management.base import BaseCommand

from core.kernels import compile_kernels


class Command(BaseCommand):
    help = "Compile the signal-processing kernels once; run after installing, before starting workers."

    def handle(self, *args, **options):
        compile_kernels()
        self.stdout.write("Kernels compiled.")
