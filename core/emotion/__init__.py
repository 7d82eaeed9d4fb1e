"""Speech emotion: features, the classifier of a model version, training, the voice-gender hint."""

from pathlib import Path

# The emotion model versions shipped in ml_models/: the default (until an admin promotes another)
# is the head on Whisper-encoder features; the CNN it replaced stays as a version to compare with.
SHIPPED_EMOTION_MODEL = "emotion-whisper-v1"
SHIPPED_CNN_MODEL = "emotion-ravdess-v2"
# The heads on Whisper base's encoder (multilingual), better on the unseen corpus: v3 learnt from clean and
# telephone copies, v4 also from speed-perturbed ones; shipped as versions to compare and promote on the
# models page (docs/models.md, "Voices it never met").
SHIPPED_BASE_MODEL = "emotion-whisper-base-v4"
SHIPPED_MODELS_DIR = Path(__file__).resolve().parents[2] / "ml_models"
