"""Datasets brought in from outside: hostile archives opened safely. Plain Python, no Django."""
