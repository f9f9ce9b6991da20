"""Use cases. They depend on the domain and its ports only."""
