# The emotion model version shipped in ml_models/ (settings.EMOTION_MODEL_DIR may point elsewhere).
SHIPPED_EMOTION_MODEL = "emotion-ravdess-v2"
