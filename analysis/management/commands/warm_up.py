
from accounts.management.base import PortalCommand
from core.kernels import compile_kernels


class Command(PortalCommand):
    help = "Compile the signal-processing kernels once; run after installing, before starting workers."
    needs_migrated_database = False  # it reads no table of the portal

    def handle(self, *args, **options):
        compile_kernels()
        self.stdout.write("Kernels compiled.")
