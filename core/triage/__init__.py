"""The triage policy: from a case's evidence to a priority score with its reasons."""
