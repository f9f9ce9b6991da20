"""The twin's REST service: the book's /rag, retrieval, health, an OpenAI-compatible chat API and a chat page."""
