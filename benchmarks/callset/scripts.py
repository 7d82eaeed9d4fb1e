"""The call scripts: what each caller says, what kind of call it is, and which part of the set it is in.

The scripts live in ``data/tuning.yaml`` and ``data/heldout.yaml``. The held-out part was written
apart from the tuning part (other words, people, places and situations) and is spoken by voices the
tuning part never uses (``voices``): no lexicon, threshold or model may be tuned on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

DATA = Path(__file__).resolve().parent / "data"
SPLITS = ("tuning", "heldout")
KINDS = ("emergency", "routine", "non_emergency", "prank", "abusive", "silent")
INCIDENT_TYPES = ("medical", "fire", "crime", "women_safety", "road_accident")
ROUTINE_TYPES = INCIDENT_TYPES + ("other",)
#: The kinds that are not genuine calls for help (the ranking's negatives).
NON_GENUINE = ("non_emergency", "prank", "abusive")
_PREFIX = {"tuning": "T-", "heldout": "H-"}


class ScriptError(ValueError):
    """A script file entry that breaks the set's rules (the message names the entry)."""


@dataclass(frozen=True)
class Script:
    id: str
    text: str
    kind: str
    subkind: str
    split: str
    incident_type: str | None = None  # emergencies: the true type; routine: the relevant type or 'other'

    @property
    def genuine(self) -> bool:
        return self.kind in ("emergency", "routine")


def _entries(split: str, data: dict) -> list[Script]:
    out: list[Script] = []
    for kind, body in data.items():
        if kind not in KINDS:
            raise ScriptError(f"{split}: unknown kind {kind!r}")
        if kind == "emergency":
            groups = list(body.items())
        else:
            groups = [(None, body)]
        for incident, entries in groups:
            if kind == "emergency" and incident not in INCIDENT_TYPES:
                raise ScriptError(f"{split}: unknown incident type {incident!r}")
            for entry in entries:
                itype = incident if kind == "emergency" else entry.get("type")
                out.append(Script(id=str(entry["id"]), text=str(entry.get("text") or "").strip(), kind=kind,
                                  subkind=str(entry["sub"]), split=split, incident_type=itype))
    return out


def _check(scripts: list[Script]) -> None:
    seen: set[str] = set()
    for s in scripts:
        if s.id in seen:
            raise ScriptError(f"script id {s.id} is used twice")
        seen.add(s.id)
        if not s.id.startswith(_PREFIX[s.split]):
            raise ScriptError(f"{s.id}: a {s.split} script's id starts with {_PREFIX[s.split]}")
        if s.kind == "routine" and s.incident_type not in ROUTINE_TYPES:
            raise ScriptError(f"{s.id}: a routine call's type is one of {ROUTINE_TYPES}")
        if s.kind not in ("emergency", "routine") and s.incident_type is not None:
            raise ScriptError(f"{s.id}: only emergencies and routine calls have an incident type")
        if s.kind != "silent" and not s.text:
            raise ScriptError(f"{s.id}: only a silent call may say nothing")


@cache
def load_scripts() -> tuple[Script, ...]:
    """Every script, tuning first, in file order (validated)."""
    scripts: list[Script] = []
    for split in SPLITS:
        with open(DATA / f"{split}.yaml", encoding="utf-8") as fh:
            scripts += _entries(split, yaml.safe_load(fh))
    _check(scripts)
    return tuple(scripts)


def scripts_of(split: str = "all") -> list[Script]:
    return [s for s in load_scripts() if split == "all" or s.split == split]
