"""Evaluation of registered twin versions: objective measures, an optional LLM judge, and the promotion rule."""
