"""The calls benchmarks/live_calls.py streams: a tuning set and a held-out set.

Each call is a lead-in, a key phrase (the emergency, with the words the case's reasons must quote
for it to count as flagged), more words, and a voice (engine, name, espeak words per minute).

- **tuning**: the eight calls the live policy's settings (LIVE_SETTLE_SECONDS, LIVE_FLUSH_SECONDS,
  LIVE_STEP_SECONDS, the pass options) were chosen on; Debian festival's three English voices and
  espeak-ng's en-us, en-gb and en-us+f3.
- **heldout**: eight other calls, never used to choose a setting: other incidents, places and
  words; every other call spoken by festival (the voices are the tuning set's: Debian has no
  other English ones), the rest by espeak-ng voices the tuning set never uses (the call
  benchmark's held-out bases en-us-nyc and en-gb-x-gbcwmd with its held-out variants), at other
  speeds. Those espeak voices through the telephone channel are hard for Whisper tiny.en (WER
  0.54 over the whole call when all eight calls were spoken by them, the set's first draft), so
  half the set is voices it can follow, and a flag can be told from a word misheard.
  Figures reported as the live path's are read on this set.
"""

from __future__ import annotations

from typing import NamedTuple


class LiveScript(NamedTuple):
    lead: str
    key: str  # the key phrase: time to flag is measured from its end
    quoted: tuple[str, ...]  # a flag counts once the case's reasons quote one of these
    rest: str
    voice: tuple[str, str]  # ("festival", name) or ("espeak", name)
    rate: int = 150  # espeak words per minute (festival speaks at its own speed)


TUNING = [
    LiveScript("Hello, is this the police control room? I am calling from Sector 14 near the bus stand.",
               "My father has collapsed and he is not breathing.", ("breathing", "collapsed"),
               "Please send an ambulance quickly, we are on the second floor.", ("festival", "kal_diphone")),
    LiveScript("Hello, hello, can you hear me? I am on Station Road in Lucknow.",
               "There is a fire in the building next to my house.", ("fire",),
               "People are still inside, please send the fire brigade.", ("festival", "cmu_us_slt_arctic_hts")),
    LiveScript("Sir, please listen, I am calling from the market in Karol Bagh.",
               "A man has a knife and he is attacking people.", ("knife", "attacking"),
               "Two people are hurt, send the police now.", ("espeak", "en-us")),
    LiveScript("Hello, I am on the highway near the toll plaza outside Jaipur.",
               "A truck hit a car and the driver is bleeding badly.", ("bleeding", "hit"),
               "He is trapped inside the car, we need an ambulance.", ("festival", "ked_diphone")),
    LiveScript("Hello, this is Meena from Gali number three, Shahdara.",
               "A snake bit my son and his leg is swelling.", ("snake", "bit"),
               "He is eight years old, please tell me what to do.", ("espeak", "en-gb")),
    LiveScript("Hello, control room? I am near the railway crossing in Thane.",
               "Someone is breaking into my house right now.", ("breaking",),
               "I am hiding in the bathroom with my children.", ("festival", "kal_diphone")),
    LiveScript("Please help me, I am calling from the village near Nashik.",
               "My husband drank poison and he is vomiting.", ("poison", "vomiting"),
               "He is not answering me, please send someone fast.", ("festival", "cmu_us_slt_arctic_hts")),
    LiveScript("Hello sir, I am at the lake behind the temple in Bhopal.",
               "A child is drowning in the water.", ("drowning", "water"),
               "Nobody here can swim, please come quickly.", ("espeak", "en-us+f3")),
]

HELDOUT = [
    LiveScript("Hello, is this one one two? I am calling from Andheri East near the metro station.",
               "There is a gas leak in our kitchen and my mother has fainted.", ("gas", "fainted"),
               "The whole floor smells of gas, please send help.", ("festival", "kal_diphone")),
    LiveScript("Hello madam, I am standing outside the bus depot in Patna.",
               "Three men are beating a woman with sticks.", ("beating", "sticks"),
               "They are dragging her towards a van, come fast.", ("espeak", "en-us-nyc+f4"), 160),
    LiveScript("Yes, hello, I am calling from the canal road in Ludhiana.",
               "Our car fell into the canal and my brother is stuck inside.", ("stuck", "fell"),
               "The water is rising, please hurry.", ("festival", "cmu_us_slt_arctic_hts")),
    LiveScript("Hello sir, I am a teacher at the government school in Ranchi.",
               "A wall collapsed on the children during lunch.", ("collapsed",),
               "Some of them are bleeding, we need ambulances.", ("espeak", "en-gb-x-gbcwmd+f5"), 155),
    LiveScript("Hello, please listen, I am in Sector 9 of Rohini.",
               "My neighbour is lying unconscious and there is blood on the floor.", ("unconscious", "blood"),
               "The door was open, I think someone attacked him.", ("festival", "ked_diphone")),
    LiveScript("Hello, is this the emergency number? I am near the old fort in Hyderabad.",
               "My wife is having a seizure and she cannot breathe.", ("seizure", "breathe"),
               "She is shaking and she does not answer me.", ("espeak", "en-us-nyc+m7"), 165),
    LiveScript("Hello, I am calling from a shop in the main bazaar of Amritsar.",
               "Two men with guns have robbed the jewellery shop.", ("guns", "robbed"),
               "They ran towards the station on a motorcycle.", ("festival", "cmu_us_slt_arctic_hts")),
    LiveScript("Hello, I am on the bridge over the river in Guwahati.",
               "A boy is standing on the railing and says he will jump.", ("jump",),
               "He is crying, please send the police quickly.", ("espeak", "en-gb-x-gbcwmd+m4"), 145),
]

SETS = {"tuning": TUNING, "heldout": HELDOUT}
