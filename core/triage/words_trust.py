"""How far the triage follows a words model version: from its held-out AUC on the call benchmark
until the supervisors have audited enough of the calls it read, then from how well it agreed with
them (the lower end of the 95 % interval of its AUC, as for the voice: core.triage.acoustic).
Plain Python, no Django.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from core.triage.acoustic import MIN_AUDITED, audited_enough, trust_of_auc


def words_trust_explained(heldout_auc: float | None, audited: Mapping[str, float] | None) -> tuple[float, str]:
    """The trust (0..1) and which figure it comes from. ``audited`` has the keys of
    analysis.models.AuditedReliability.as_reliability (its positive side: genuine emergencies)."""
    if audited and audited_enough(audited):
        return round(trust_of_auc(float(audited["distress_auc_audited_low"])), 4), (
            f"from {int(audited['audited_distressed'] + audited['audited_calm'])} audited calls: AUC "
            f"{audited['distress_auc_audited']:.2f} (95 % {audited['distress_auc_audited_low']:.2f}–"
            f"{audited['distress_auc_audited_high']:.2f}); its lower end counts")
    if heldout_auc is None or not math.isfinite(heldout_auc):
        return 0.0, "no held-out AUC (and too few audited calls): trusted as at chance"
    return round(trust_of_auc(heldout_auc), 4), (f"from its held-out AUC on the call benchmark ({heldout_auc:.2f}); "
                                                 f"audited calls take over from {MIN_AUDITED}")
