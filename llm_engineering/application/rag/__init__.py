"""Retrieval-augmented generation: self-query, query expansion, hybrid retrieval, reranking, prompts, the twin."""
