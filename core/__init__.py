"""The portal's pure core: audio, emotion models, speech engines, text analysis, triage policy.

Plain typed Python with no Django (import-linter checks it): usable from a notebook, a script or
a benchmark without settings. The Django apps above store and show what it computes.
"""
