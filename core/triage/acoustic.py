"""How the voice counts in triage: model probabilities read through the admin's label mapping,
weighted by how far the model can be trusted.

Probability mass on a label the mapping does not know counts as unknown distress (urgent).
The voice's distress is pulled towards a typical genuine call's by the model's *trust*
(:func:`acoustic_trust`, from the model version's measured reliability) and, further, when the
recording looks unlike the model's training data; its prank cue shrinks the same way.
Plain Python, no Django.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace

from core.triage.config import TYPICAL_GENUINE_DISTRESS, TriageConfig, clamp, is_number
from core.triage.evidence import TriageEvidence

#: A model whose distress ROC AUC is at least this on held-out speakers *and* on an unseen
#: corpus is trusted fully; one at chance (0.5) not at all.
FULL_TRUST_AUC = 0.9
#: The voice of a recording unlike the training data counts this much of the model's trust.
UNFAMILIAR_VOICE_TRUST = 0.25
UNFAMILIAR_REASON = "voice unlike the training data: acoustic evidence discounted"


#: Audited calls a version needs, with at least MIN_AUDITED_PER_SIDE distressed and calm ones, before
#: the supervisors' labels set its trust instead of the corpora: on this deployment's voices the
#: corpora overstate a voice model.
MIN_AUDITED = 30
MIN_AUDITED_PER_SIDE = 10


def trust_of_auc(auc: float) -> float:
    """0 at chance (AUC 0.5), 1 at FULL_TRUST_AUC or better: how far a model with this AUC is followed."""
    return clamp((auc - 0.5) / (FULL_TRUST_AUC - 0.5), 0.0, 1.0)


def _finite(value: object) -> bool:
    return value is not None and is_number(value) and math.isfinite(value)  # type: ignore[arg-type]


def audited_enough(reliability: Mapping[str, float] | None) -> bool:
    """Whether the supervisors' audits of this version are enough to set its trust."""
    if not reliability or not _finite(reliability.get("distress_auc_audited_low")):
        return False
    pos, neg = reliability.get("audited_distressed", 0), reliability.get("audited_calm", 0)
    return pos + neg >= MIN_AUDITED and min(pos, neg) >= MIN_AUDITED_PER_SIDE


def trust_explained(reliability: Mapping[str, float] | None) -> tuple[float, str]:
    """The trust the triage gives a version's voice (0..1) and which figure it comes from.

    With enough audited calls, the lower end of the 95 % interval of the distress AUC against the
    supervisors' labels; otherwise the weaker of the held-out and unseen-corpus AUCs; a version
    with neither is trusted as little as one at chance."""
    if reliability and audited_enough(reliability):
        r = reliability
        return trust_of_auc(float(r["distress_auc_audited_low"])), (
            f"from {int(r['audited_distressed'] + r['audited_calm'])} audited calls: distress AUC "
            f"{r['distress_auc_audited']:.2f} (95 % {r['distress_auc_audited_low']:.2f}–"
            f"{r['distress_auc_audited_high']:.2f}); its lower end counts")
    aucs = [reliability.get("distress_auc_heldout"), reliability.get("distress_auc_cross_corpus")] \
        if reliability else [None, None]
    if not all(_finite(a) for a in aucs):
        return 0.0, "no held-out and unseen-corpus distress AUCs (and too few audited calls): trusted as at chance"
    weakest = min(float(a) for a in aucs if a is not None)
    return trust_of_auc(weakest), (f"from the weaker of its held-out and unseen-corpus distress AUCs ({weakest:.2f}); "
                                f"audited calls take over from {MIN_AUDITED}")


def acoustic_trust(reliability: Mapping[str, float] | None) -> float:
    """0..1, see :func:`trust_explained`: 0 at chance, 1 at an AUC of FULL_TRUST_AUC or better."""
    return trust_explained(reliability)[0]


def raw_distress(probabilities: Mapping[str, float] | None, config: TriageConfig) -> float | None:
    """What the model's probabilities say of distress through the label mapping, before any trust
    (None without usable probabilities): the score an audit judges a version by."""
    reading = _read_probabilities(TriageEvidence(emotion_probabilities=probabilities), config)
    return reading.distress if reading.known else None


@dataclass(frozen=True)
class AcousticReading:
    """The voice as the triage reads it: distress and prank cue through the label mapping, each
    already weighted by ``trust``."""

    known: bool
    distress: float
    prank_cue: float
    top_label: str | None
    top_probability: float
    top_prank_label: str | None
    top_prank_probability: float
    unmapped: list[str]
    trust: float = 1.0
    unfamiliar: bool = False


def _clean_probabilities(probs: Mapping[str, float] | None) -> dict[str, float] | None:
    if not isinstance(probs, Mapping):
        return None
    clean: dict[str, float] = {}
    for label, p in probs.items():
        if not isinstance(label, str) or not is_number(p) or not math.isfinite(p) or p <= 0:
            continue
        clean[label] = clean.get(label, 0.0) + float(p)
    total = sum(clean.values())
    if total <= 0:
        return None
    return {label: p / total for label, p in clean.items()}


def read_voice(evidence: TriageEvidence, config: TriageConfig) -> AcousticReading:
    """The voice, weighted by trust: distress moves from a typical genuine call's towards what the
    model heard only as far as the model is trusted."""
    reading = _read_probabilities(evidence, config)
    if not reading.known:
        return reading
    trust = clamp(evidence.acoustic_trust, 0.0, 1.0) * (UNFAMILIAR_VOICE_TRUST if evidence.voice_unfamiliar else 1.0)
    distress = TYPICAL_GENUINE_DISTRESS + trust * (reading.distress - TYPICAL_GENUINE_DISTRESS)
    return replace(reading, distress=distress, prank_cue=trust * reading.prank_cue, trust=trust,
                   unfamiliar=evidence.voice_unfamiliar)


def _read_probabilities(evidence: TriageEvidence, config: TriageConfig) -> AcousticReading:
    weights = config.weights
    probs = None if evidence.emotion_failed else _clean_probabilities(evidence.emotion_probabilities)
    if probs is None:
        return AcousticReading(False, weights["unknown_distress"], 0.0, None, 0.0, None, 0.0, [])
    intensity = weights["category_distress"]
    distress = 0.0
    prank_cue = 0.0
    top_label, top_part, top_p = None, -1.0, 0.0
    prank_label, prank_p = None, 0.0
    unmapped: list[str] = []
    for label, p in sorted(probs.items()):
        category = config.label_mapping.get(label.strip().lower())
        if category is None:
            unmapped.append(label)
            level = weights["unknown_distress"]
        else:
            level = intensity[category]
            if category == "prank":
                prank_cue += p
                if p > prank_p:
                    prank_label, prank_p = label, p
        part = p * level
        distress += part
        # The label that explains the distress; among labels adding none, the likeliest one
        # (not the first in alphabetical order: "sounds happy 0.02" on a calm voice is noise).
        if (part, p) > (top_part, top_p):
            top_label, top_part, top_p = label, part, p
    return AcousticReading(
        True,
        clamp(distress, 0.0, 1.0),
        clamp(prank_cue, 0.0, 1.0),
        top_label,
        top_p,
        prank_label,
        prank_p,
        unmapped,
    )
