"""Append-only rows: the history of a case is never edited or deleted, by code, admin or shell."""

from __future__ import annotations

from typing import Any, cast

from django.core.exceptions import ValidationError
from django.db import models


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs: Any) -> int:
        raise ValidationError(f"{self.model._meta.verbose_name_plural} are append-only: rows are never updated.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise ValidationError(f"{self.model._meta.verbose_name_plural} are append-only: rows are never deleted.")


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
