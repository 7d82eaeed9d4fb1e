"""What the model pages show beyond the registry's reads: the figures a version's trust comes from,
what a promotion changes (and whether it makes the voice weaker), a training record in brief, and a
version's datasets by name. Plain reads for the views; no state changes here."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.urls import reverse

# (label, key in a row's "shown" figures): higher is better for each.
COMPARED = (
    ("UA on held-out speakers", "ua"),
    ("distress AUC on held-out speakers", "distress_auc"),
    ("telephone UA", "telephone_ua"),
    ("UA on an unseen corpus", "cross_corpus_ua"),
    ("distress AUC on an unseen corpus", "cross_corpus_auc"),
    ("triage trust in its voice", "trust"),
)


def shown_figures(row: dict[str, Any]) -> dict[str, Any]:
    """A version's figures as the pages show them. A CNN version's own figures carry no AUCs, while
    its trust is computed from the AUCs in its metadata's "reliability": show those (marked with
    where they come from), so the figures and the trust never disagree."""
    f, reliability = row["figures"], row.get("reliability") or {}
    heldout, cross = f.distress_auc, f.cross_corpus_auc
    note = ""
    if heldout is None and reliability.get("distress_auc_heldout") is not None:
        heldout, note = reliability["distress_auc_heldout"], str(reliability.get("source") or "measured separately")
    if cross is None and reliability.get("distress_auc_cross_corpus") is not None:
        cross = reliability["distress_auc_cross_corpus"]
        note = note or str(reliability.get("source") or "measured separately")
    return {"ua": f.ua, "distress_auc": heldout, "telephone_ua": f.telephone_ua, "cross_corpus_ua": f.cross_corpus_ua,
            "cross_corpus_auc": cross, "trust": row["trust"], "auc_note": note}


def promotion_changes(active: dict[str, Any] | None, candidate: dict[str, Any]) -> tuple[list[tuple], list[str]]:
    """The figures side by side (label, active, candidate, weaker?) and the warnings to read before
    promoting: every figure the candidate is lower on, or lacks where the active version has it."""
    now = shown_figures(active) if active is not None else {}
    new = shown_figures(candidate)
    rows, warnings = [], []
    for label, key in COMPARED:
        a, b = now.get(key), new.get(key)
        weaker = b is None and a is not None or (a is not None and b is not None and b < a)
        rows.append((label, a, b, weaker))
        if b is None and a is not None:
            warnings.append(f"it has no {label} (the active version has {a:.3f})")
        elif weaker:
            warnings.append(f"its {label} is lower: {b:.3f} against {a:.3f}")
    if not new["trust"]:
        warnings.append("the triage would give its voice no weight (trust 0): promoted, it changes no priority")
    return rows, warnings


def training_summary(training: dict[str, Any]) -> tuple[list[tuple[str, str]], list[dict[str, Any]]]:
    """The training record in brief: its settings as (name, text), long lists summarised, and one
    row per ensemble member from the epoch-by-epoch history (epochs, best validation UA and when,
    final loss) instead of every epoch's raw record."""
    settings: list[tuple[str, str]] = []
    for key, value in training.items():
        if key in ("history", "search"):
            continue
        if isinstance(value, dict):
            text = ", ".join(f"{k} {v}" for k, v in value.items()) or "—"
        elif isinstance(value, list):
            text = ", ".join(map(str, value[:8])) + (f" … ({len(value)} in all)" if len(value) > 8 else "")
        else:
            text = str(value)
        settings.append((key.replace("_", " "), text))
    members: dict[Any, list[dict[str, Any]]] = {}
    for epoch in training.get("history") or []:
        if isinstance(epoch, dict):
            members.setdefault(epoch.get("member", 0), []).append(epoch)
    history = []
    for member, epochs in sorted(members.items(), key=lambda item: str(item[0])):
        scored = [e for e in epochs if isinstance(e.get("val_ua"), (int, float))]
        best = max(scored, key=lambda e: e["val_ua"]) if scored else None
        history.append({"member": member, "epochs": len(epochs),
                        "best_val_ua": best["val_ua"] if best else None, "best_epoch": best.get("epoch") if best else None,
                        "final_loss": epochs[-1].get("loss")})
    return settings, history


def dataset_lineage(dataset: dict[str, Any]) -> list[tuple[str, str | None]]:
    """The datasets a version was trained on, by name with a link when imported in the portal
    (name, url or None); a shipped version names its corpus folder, never the server's path."""
    names, ids = dataset.get("names") or [], dataset.get("ids") or []
    if names:
        urls = [reverse("learning:dataset_detail", args=[pk]) if isinstance(pk, int) else None for pk in ids]
        return list(zip(names, urls + [None] * (len(names) - len(urls)), strict=False))
    path = str(dataset.get("path") or "").rstrip("/")
    if not path:
        return []
    if Path(path).resolve() == Path(settings.MEDIA_ROOT).resolve():
        return [("clips imported in the portal (the dataset's name was not recorded)", None)]
    return [(path.rsplit("/", 1)[-1], None)]
