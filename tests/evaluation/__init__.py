"""Tests of shopmind.evaluation: metrics, protocols, reports."""
