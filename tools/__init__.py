"""Entry points: one small CLI per job. Each configures logging; library code never does."""
