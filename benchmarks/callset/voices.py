"""Who speaks each script: synthetic voices, with the held-out voices never used in tuning.

A voice is an engine and a voice name (espeak-ng base voice + variant, or a festival voice); its
speed and pitch are drawn per script from a seed. Tuning scripts are spoken by espeak-ng's
en-gb, en-us, en-gb-scotland and en-gb-x-rp bases with variants m1-m3, f1-f3, klatt, klatt2;
held-out scripts by other bases (en-029, en-us-nyc, en-gb-x-gbclan, en-gb-x-gbcwmd) with other
variants (m4, m5, m7, f4, f5, klatt3, klatt4), and by Debian festival's three English voices
(every third held-out script). Speed and pitch do not depend on the kind of call: a synthetic
voice carries no acted distress, so the voice side has no cue planted in it.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass

import numpy as np

from .scripts import Script

TUNING_BASES = ("en-gb", "en-us", "en-gb-scotland", "en-gb-x-rp")
TUNING_VARIANTS = ("m1", "m2", "m3", "f1", "f2", "f3", "klatt", "klatt2")
HELDOUT_BASES = ("en-029", "en-us-nyc", "en-gb-x-gbclan", "en-gb-x-gbcwmd")
HELDOUT_VARIANTS = ("m4", "m5", "m7", "f4", "f5", "klatt3", "klatt4")
FESTIVAL_VOICES = ("kal_diphone", "ked_diphone", "cmu_us_slt_arctic_hts")  # held out only
FESTIVAL_SHARE = 3  # every third held-out script is spoken by festival
#: Speech without a voice: silent calls other than mumbles.
NO_VOICE_SUBKINDS = ("silence", "breathing", "line_noise")


@dataclass(frozen=True)
class Voice:
    engine: str  # 'espeak' | 'festival' | 'none'
    name: str  # espeak 'en-us+f3'; festival 'kal_diphone'; '' for none
    rate: float  # espeak words per minute; festival duration stretch (1 = its own speed)
    pitch: int  # espeak 0-99; festival diphone voices' mean F0 in Hz; 0 for none

    @property
    def id(self) -> str:
        """The voice's identity across splits: engine and name (speed and pitch vary per script)."""
        return f"{self.engine}:{self.name}" if self.name else self.engine

    @property
    def family(self) -> str:
        if self.engine == "none":
            return "none"
        if self.engine == "festival":
            return "festival-hts" if "hts" in self.name else "festival-diphone"
        variant = self.name.split("+", 1)[1] if "+" in self.name else ""
        return "espeak-klatt" if variant.startswith("klatt") else \
            "espeak-female" if variant.startswith("f") else "espeak-male"

    def to_dict(self) -> dict:
        return {**asdict(self), "id": self.id, "family": self.family}


NO_VOICE = Voice("none", "", 0, 0)


def seed_of(*parts: object) -> int:
    """A stable 64-bit seed from any parts (not Python's salted hash)."""
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:8], "little")


def espeak_names(split: str) -> list[str]:
    bases, variants = (TUNING_BASES, TUNING_VARIANTS) if split == "tuning" else (HELDOUT_BASES, HELDOUT_VARIANTS)
    return [f"{b}+{v}" for v in variants for b in bases]


def voice_ids(split: str) -> set[str]:
    """Every voice identity a split may use."""
    ids = {f"espeak:{n}" for n in espeak_names(split)}
    if split == "heldout":
        ids |= {f"festival:{n}" for n in FESTIVAL_VOICES}
    return ids


def assign_voices(scripts: list[Script], seed: int = 112) -> dict[str, Voice]:
    """script id -> voice. Balanced: within a split, the scripts (in a seeded order) take the split's
    voices in turn, so every voice speaks about as many scripts."""
    out: dict[str, Voice] = {}
    for split in ("tuning", "heldout"):
        spoken = sorted((s for s in scripts if s.split == split and s.subkind not in NO_VOICE_SUBKINDS),
                        key=lambda s: seed_of(seed, "order", s.id))
        names = espeak_names(split)
        rng_names = np.random.default_rng(seed_of(seed, "names", split))
        names = [names[i] for i in rng_names.permutation(len(names))]
        espeak_turn = festival_turn = 0
        for i, script in enumerate(spoken):
            rng = np.random.default_rng(seed_of(seed, "voice", script.id))
            if split == "heldout" and i % FESTIVAL_SHARE == FESTIVAL_SHARE - 1:
                name = FESTIVAL_VOICES[festival_turn % len(FESTIVAL_VOICES)]
                festival_turn += 1
                hts = "hts" in name
                out[script.id] = Voice("festival", name, 1.0 if hts else round(float(rng.uniform(0.85, 1.15)), 2),
                                       0 if hts else int(rng.integers(95, 140)))
            else:
                name = names[espeak_turn % len(names)]
                espeak_turn += 1
                out[script.id] = Voice("espeak", name, int(rng.integers(130, 191)), int(rng.integers(30, 71)))
    for s in scripts:
        out.setdefault(s.id, NO_VOICE)
    return out
