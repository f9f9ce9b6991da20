"""Enumerations shared by every layer."""

from enum import StrEnum


class DataCategory(StrEnum):
    """The kinds of raw document the warehouse holds; also the Mongo collection names."""

    ARTICLES = "articles"
    POSTS = "posts"
    REPOSITORIES = "repositories"

    @property
    def cleaned_collection(self) -> str:
        """Name of the payload-only Qdrant collection holding cleaned documents."""
        return f"cleaned_{self.value}"

    @property
    def embedded_collection(self) -> str:
        """Name of the Qdrant collection holding embedded chunks."""
        return f"embedded_{self.value}"
