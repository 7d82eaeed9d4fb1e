"""The database's own guard on append-only tables (MariaDB/MySQL): triggers that refuse UPDATE and
DELETE of a history row, whatever the client — a raw SQL query, a stray ``_base_manager`` update,
another program on the same database. AppendOnlyModel guards the ORM; this guards the rest.

Installed after every ``migrate`` (and ``flush``) for every concrete AppendOnlyModel, so a new
history model is covered without a migration of its own; an existing trigger is left alone.
SQLite (the embedded run) has no guard beyond the ORM's.

One way through, on purpose: a DELETE with ``FOREIGN_KEY_CHECKS = 0``. That is how Django empties
every table at once (``flush``: the test suite between transactional tests, ``manage.py restore
--force``), never how the application deletes a row; whoever can set it can drop a trigger too.
A migration that must rewrite history rows (say, a NOT NULL column filled in) drops the trigger
first (``DROP TRIGGER <table>_no_update``); the next migrate puts it back.
"""

from __future__ import annotations

import logging
from typing import Any

from django.apps import apps
from django.db import DatabaseError, connections

from .history import AppendOnlyModel

logger = logging.getLogger(__name__)


def append_only_tables() -> list[str]:
    return sorted(model._meta.db_table for model in apps.get_models()
                  if issubclass(model, AppendOnlyModel) and model._meta.managed and not model._meta.proxy)


def trigger_name(table: str, operation: str) -> str:
    return f"{table}_no_{operation.lower()}"[:64]


def history_guards_install(*, using: str = "default") -> list[str]:
    """Create the missing triggers; returns their names. A database user without the TRIGGER
    privilege gets a logged warning, not a failed migrate (the ORM's guard still holds)."""
    connection = connections[using]
    if connection.vendor != "mysql":
        return []
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute("SELECT TRIGGER_NAME FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE()")
        existing = {row[0] for row in cursor.fetchall()}
        created: list[str] = []
        for table in append_only_tables():
            for operation, body in (("UPDATE", _refuse(table, "updated")), ("DELETE", _refuse_unless_flush(table))):
                name = trigger_name(table, operation)
                if name in existing:
                    continue
                try:
                    cursor.execute(f"CREATE TRIGGER {quote(name)} BEFORE {operation} ON {quote(table)} "
                                   f"FOR EACH ROW {body}")
                except DatabaseError as exc:
                    logger.warning("History guard %s not installed: %s", name, exc)
                    return created
                created.append(name)
    return created


def _refuse(table: str, what: str) -> str:
    return f"SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = '{table} is append-only: rows are never {what}'"


def _refuse_unless_flush(table: str) -> str:
    return f"BEGIN IF @@foreign_key_checks = 1 THEN {_refuse(table, 'deleted')}; END IF; END"


def install_after_migrate(using: str = "default", **kwargs: Any) -> None:
    """post_migrate receiver (CallsConfig.ready)."""
    history_guards_install(using=using)
