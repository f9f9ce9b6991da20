"""Data stores: MongoDB warehouse and Qdrant feature store."""
