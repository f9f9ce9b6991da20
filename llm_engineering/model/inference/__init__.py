"""Inference with the registry's model: loaded once, streamed token by token, concurrent requests micro-batched."""
