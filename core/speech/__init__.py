"""Offline speech-to-text: engines, their models, the transcript they produce."""
