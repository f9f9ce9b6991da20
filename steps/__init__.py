"""Thin ZenML steps: parse parameters, call application code, log metadata."""
