"""Thin ZenML pipeline definitions."""
