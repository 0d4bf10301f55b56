"""Evaluation: splits, metrics (one module used by everything) and reports."""
