"""Prompt monitoring adapters (Opik) behind the domain's Tracer port."""
