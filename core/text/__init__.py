"""What the caller's words say: lexicons and the analysis of a transcript."""
