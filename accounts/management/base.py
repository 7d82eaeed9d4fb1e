"""The base of every management command of the portal's apps.

On a database that is not migrated (a fresh checkout, a new SQLite file) or cannot be reached, a
command says what to do, with a non-zero exit, instead of a traceback from its first query. Here,
in the lowest app, so every app's commands can share it; tests/test_backend_rough_edges.py checks
that every command of the portal's apps derives from it.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.db.migrations.executor import MigrationExecutor

MIGRATE_FIRST = "run `python manage.py migrate` first"


def database_ready(alias: str = DEFAULT_DB_ALIAS) -> None:
    """Raise CommandError (with what to do) unless the database answers and every migration is applied."""
    connection = connections[alias]
    try:
        executor = MigrationExecutor(connection)
        unapplied = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except DatabaseError as exc:
        raise CommandError(f"The database cannot be reached ({exc}); check DATABASE_URL.") from exc
    if not unapplied:
        return
    if not executor.loader.applied_migrations:
        raise CommandError(f"The database {_name(connection)} has no tables yet: {MIGRATE_FIRST}.")
    raise CommandError(f"The database {_name(connection)} is not up to date ({len(unapplied)} migration(s) "
                       f"not applied): {MIGRATE_FIRST}.")


def _name(connection: Any) -> str:
    return str(connection.settings_dict.get("NAME") or connection.alias)


class PortalCommand(BaseCommand):
    """A command of the portal: checks the database before it runs (see the module's docstring)."""

    #: False for a command that can run without the portal's tables.
    needs_migrated_database = True

    def database_needed(self, options: dict[str, Any]) -> bool:
        """Whether this run needs the tables (a command may need them only for some options)."""
        return self.needs_migrated_database

    def execute(self, *args: Any, **options: Any) -> Any:
        # execute(), not handle(): the same check for `manage.py <command>` and call_command(); a
        # CommandError raised here prints its message and exits 1 (with --traceback, the trace).
        if self.database_needed(options):
            database_ready(options.get("database") or DEFAULT_DB_ALIAS)
        return super().execute(*args, **options)
