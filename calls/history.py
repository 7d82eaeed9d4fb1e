"""Append-only rows: the history of a case is never edited or deleted, by code, admin or shell.

The ORM's ways to change a row all end here: ``save()`` of a stored row, ``delete()``, a queryset's
``update()``/``delete()`` (and so ``bulk_update()``, ``update_or_create()`` of a stored row and
related managers), an upsert through ``bulk_create(update_conflicts=True)``, and the same through
``Model._base_manager`` (made the append-only manager below). Every foreign key of a history row is
PROTECT, so no cascade removes one (tests/test_audit_trail.py checks both). On MariaDB, triggers
refuse the rest (history_guard.py).
"""

from __future__ import annotations

from typing import Any, cast

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.signals import class_prepared


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs: Any) -> int:
        raise ValidationError(f"{self.model._meta.verbose_name_plural} are append-only: rows are never updated.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise ValidationError(f"{self.model._meta.verbose_name_plural} are append-only: rows are never deleted.")

    def bulk_create(self, objs: Any, *args: Any, **kwargs: Any) -> Any:
        if kwargs.get("update_conflicts"):  # an upsert: an UPDATE of the row already there
            raise ValidationError(f"{self.model._meta.verbose_name_plural} are append-only: rows are never updated.")
        return super().bulk_create(objs, *args, **kwargs)


class AppendOnlyModel(models.Model):
    """A row is written once; a correction is a new row, never an edit of the old one."""

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not self._state.adding:
            raise ValidationError(
                f"{cast(str, self._meta.verbose_name_plural).capitalize()} are append-only."
            )
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise ValidationError(f"{cast(str, self._meta.verbose_name_plural).capitalize()} are append-only.")


def _append_only_base_manager(sender: type[models.Model], **kwargs: Any) -> None:
    """Django reaches rows through ``_base_manager`` (a plain Manager unless named); make it the
    append-only one, so ``Model._base_manager.update()`` is refused too. Set here, not in Meta:
    every subclass declares a Meta of its own, and a Meta option would need a migration."""
    if issubclass(sender, AppendOnlyModel) and not sender._meta.abstract:
        sender._meta.base_manager_name = "objects"
        sender._meta.__dict__.pop("base_manager", None)  # a cached_property, if read already


class_prepared.connect(_append_only_base_manager, dispatch_uid="calls.history.append_only_base_manager")
