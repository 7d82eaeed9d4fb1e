"""Speech emotion: features, the classifier of a model version, training, the voice-gender hint."""

from pathlib import Path

# The emotion model version shipped in ml_models/ (the default until an admin promotes another).
SHIPPED_EMOTION_MODEL = "emotion-ravdess-v2"
SHIPPED_MODELS_DIR = Path(__file__).resolve().parents[2] / "ml_models"
