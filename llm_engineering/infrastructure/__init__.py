"""Adapters to outside systems, built from Settings by small factories."""
