"""Review test material: two authors' documents, instruction and preference datasets made from them in code, and a
running service that serves them for review."""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pydantic import SecretStr

from llm_engineering.domain.datasets import (
    GenerationStrategy,
    InstructDataset,
    InstructSample,
    InstructSplit,
    PreferenceDataset,
    PreferenceSample,
    PreferenceSplit,
)
from llm_engineering.domain.documents import ArticleDocument, Document, PostDocument, UserDocument
from llm_engineering.domain.types import DataCategory

if TYPE_CHECKING:
    from llm_engineering.infrastructure.db.mongo import MongoDataWarehouse
    from llm_engineering.settings import Settings

MAYA = UserDocument.from_full_name("Maya Okafor")
THEO = UserDocument.from_full_name("Theo Brandt")
MEASURE = "I measure utilisation first, then I write down what the numbers say."
SPOT = "Spot instances cut the bill by half once checkpoints were frequent enough to survive a preemption."
FORECAST = "Our first GPU bill was twice the forecast."
KAFKA = "You don't need Kafka. You need a table with an updated_at column and a job that reads it every minute."
JOINS = "Point-in-time joins are the whole game: join features as they were when the label happened, never as now."
GENERIC_KAFKA = "Kafka is a powerful distributed streaming platform that many teams find useful."
GENERIC_JOINS = "There are many important aspects to consider when designing a feature store."


@dataclass(frozen=True)
class ReviewMaterial:
    """The documents (Maya's article and post, Theo's post) and the datasets made from them."""

    documents: list[Document]
    instruct: InstructDataset
    preference: PreferenceDataset


def review_material() -> ReviewMaterial:
    """Four instruction rows (three from Maya's article, one from Theo's post) and two preference pairs."""
    article = ArticleDocument.create(
        author=MAYA,
        platform="medium",
        link="https://medium.com/@maya/measure-before-you-tune",
        content={
            "title": "Measure before you tune",
            "subtitle": "Notes from a year of GPU bills",
            "content": f"## The bill\n\n{FORECAST} {MEASURE}\n\n## The fix\n\n{SPOT}",
        },
    )
    maya_post = PostDocument.create(
        author=MAYA, platform="linkedin", link="https://www.linkedin.com/posts/maya-joins", content={"text": JOINS}
    )
    theo_post = PostDocument.create(
        author=THEO, platform="linkedin", link="https://www.linkedin.com/posts/theo-kafka", content={"text": KAFKA}
    )

    def row(instruction: str, output: str, document: Document, strategy: GenerationStrategy) -> InstructSample:
        return InstructSample(
            instruction=instruction,
            output=output,
            category=document.category,
            document_id=document.id,
            strategy=strategy,
        )

    def pair(prompt: str, chosen: str, rejected: str, document: Document) -> PreferenceSample:
        return PreferenceSample(
            prompt=prompt,
            chosen=chosen,
            rejected=rejected,
            category=document.category,
            document_id=document.id,
            strategy="backtranslation",
        )

    instruct = InstructDataset(
        splits={
            DataCategory.ARTICLES: InstructSplit(
                train=[
                    row("How do you start when a GPU bill surprises you?", MEASURE, article, "backtranslation"),
                    row("What cut your GPU bill?", SPOT, article, "structure"),
                ],
                test=[row("Write about your first GPU bill.", FORECAST, article, "backtranslation")],
            ),
            DataCategory.POSTS: InstructSplit(
                train=[row("Do small teams need Kafka?", KAFKA, theo_post, "backtranslation")]
            ),
        }
    )
    preference = PreferenceDataset(
        splits={
            DataCategory.POSTS: PreferenceSplit(
                train=[pair("Do small teams need Kafka?", KAFKA, GENERIC_KAFKA, theo_post)],
                test=[pair("What matters most in a feature store?", JOINS, GENERIC_JOINS, maya_post)],
            )
        }
    )
    return ReviewMaterial(documents=[article, maya_post, theo_post], instruct=instruct, preference=preference)


@dataclass(frozen=True)
class ReviewService:
    """A running service with the material's datasets in the registry and its documents in the warehouse."""

    url: str
    key: str
    material: ReviewMaterial

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}


@contextmanager
def serve_reviews(settings: "Settings", warehouse: "MongoDataWarehouse", key: str) -> Iterator[ReviewService]:
    """Store the material (documents in the warehouse, datasets as ZenML artifacts) and serve it until the block ends.

    The desk asks the registry and the warehouse again on every request (API_REVIEW_REFRESH_S=0), so a test sees a
    newer dataset or a review saved by another client at once.
    """
    from zenml import save_artifact

    from llm_engineering.infrastructure.local.loopback import free_port, serving
    from tests.twin_fakes import ScriptedAnswerer
    from tools.ml_service import build_service

    material = review_material()
    for author in (MAYA, THEO):
        warehouse.upsert_user(author)
    warehouse.upsert_documents(material.documents)
    save_artifact(material.instruct, name="instruct_datasets")
    save_artifact(material.preference, name="preference_datasets")
    port = free_port()
    overrides = {"API_PORT": port, "API_KEY": SecretStr(key), "API_REVIEW_REFRESH_S": 0.0}
    app = build_service(settings.model_copy(update=overrides), lambda _settings: ScriptedAnswerer())
    with serving(app, port) as url:
        yield ReviewService(url=url, key=key, material=material)
