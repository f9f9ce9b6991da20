"""The review desk wired from Settings: the registry's datasets, the warehouse's documents and its reviews."""

from llm_engineering.application.dataset.review_desk import DatasetReviewDesk
from llm_engineering.infrastructure.dataset_artifacts import ZenMLDatasetArtifacts
from llm_engineering.infrastructure.db.mongo import MongoDataWarehouse, connect_mongo
from llm_engineering.infrastructure.db.mongo_reviews import MongoReviewStore
from llm_engineering.settings import Settings


def build_review_desk(settings: Settings) -> DatasetReviewDesk:
    """The desk on ZenML's dataset artifacts and one warehouse connection, which closing the desk closes."""
    client = connect_mongo(settings)
    database = client[settings.DATABASE_NAME]
    return DatasetReviewDesk(
        ZenMLDatasetArtifacts(),
        MongoReviewStore(database),
        MongoDataWarehouse(database),
        refresh_s=settings.API_REVIEW_REFRESH_S,
        on_close=client.close,
    )
