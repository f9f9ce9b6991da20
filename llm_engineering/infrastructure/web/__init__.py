"""Adapters of the crawler ports: httpx fetcher, headless Chromium, git; and the factory wiring them."""
