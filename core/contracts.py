"""Reading a stage's stored result back into its dataclass: one rule for every hand-over contract."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from typing import Any

#: Field metadata for a field added after results were first stored: older results may lack it
#: (its default then applies). Every other field must be present.
ADDED_LATER = {"added_later": True}


def field_values(cls: type, data: Mapping[str, Any]) -> dict[str, Any]:
    """The values of a dataclass's fields in `data`; a missing field raises KeyError naming it,
    unless it was added later (marked ADDED_LATER). Keys that are not fields are ignored."""
    values: dict[str, Any] = {}
    for f in fields(cls):
        if f.name in data:
            values[f.name] = data[f.name]
        elif not f.metadata.get("added_later"):
            raise KeyError(f.name)
    return values
