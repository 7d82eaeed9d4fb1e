"""Audited calls as a labelled dataset: the audio and a manifest the dataset importer reads.

The manifest (``manifest.csv``) has the columns ``path, label, speaker, gender, source_case``:
the label is the supervisor's triage category (a blind pair that disagrees is left out), the
speaker a salted hash of the caller's number (the same caller stays one speaker, and no number
leaves the portal), the gender the voice-gender hint.
"""

from __future__ import annotations

import csv
import hashlib
import io
import zipfile
from pathlib import Path

from django.conf import settings

from analysis.selectors import case_analysis_get

from .metrics import Answered, DashboardFilter, answered_items

MANIFEST = "manifest.csv"
COLUMNS = ["path", "label", "speaker", "gender", "source_case"]


def _speaker(caller_number: str) -> str:
    return "caller-" + hashlib.sha256(f"{settings.AUDIT_SALT}:{caller_number}".encode()).hexdigest()[:12]


def exportable(f: DashboardFilter) -> list[Answered]:
    """Audited calls with audio whose standing answers agree. A call still waiting for its blind
    second review is left out: the export would show the second reviewer the first one's answer."""
    return [r for r in answered_items(f)
            if r.item.recording_id and not (r.item.second_review and r.second is None)
            and (r.second is None or r.second.category == r.primary.category)]


def write_export(target: io.BufferedIOBase | Path, f: DashboardFilter | None = None) -> int:
    """Write a zip of ``audio/<case>.wav`` files and the manifest; returns the number of calls."""
    rows = exportable(f or DashboardFilter())
    manifest = io.StringIO()
    writer = csv.writer(manifest)
    writer.writerow(COLUMNS)
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for r in rows:
            recording = r.item.recording
            assert recording is not None
            name = f"audio/case-{r.item.case_id}.wav"
            with recording.normalised.open("rb") as audio:
                archive.writestr(name, audio.read())
            emotion = case_analysis_get(r.item.case).emotion
            gender = emotion.gender.label if emotion and emotion.gender else "unknown"
            writer.writerow([name, r.primary.category, _speaker(r.item.case.caller_number), gender, r.item.case_id])
        archive.writestr(MANIFEST, manifest.getvalue())
    return len(rows)
