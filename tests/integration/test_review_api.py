"""The review API over real HTTP: uvicorn on 127.0.0.1, the real Mongo-wire server, datasets as ZenML artifacts."""

from collections.abc import Iterator

import httpx
import pytest

from llm_engineering.domain.datasets import InstructDataset
from llm_engineering.domain.types import DataCategory
from llm_engineering.infrastructure.db.mongo import MongoDataWarehouse
from llm_engineering.settings import Settings
from tests.review_support import GENERIC_KAFKA, KAFKA, MEASURE, SPOT, ReviewService, serve_reviews

KEY = "review-key-123"


@pytest.fixture
def service(settings: Settings, warehouse: MongoDataWarehouse) -> Iterator[ReviewService]:
    with serve_reviews(settings, warehouse, KEY) as running:
        yield running


@pytest.fixture
def api(service: ReviewService) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"{service.url}/api/reviews", headers=service.headers, timeout=30) as client:
        yield client


def answers(page: httpx.Response) -> list[str]:
    assert page.status_code == 200, page.text
    return [item["answer"] for item in page.json()["items"]]


def test_rows_are_listed_filtered_and_opened_with_their_source(service: ReviewService, api: httpx.Client) -> None:
    assert httpx.get(f"{service.url}/api/reviews/samples").status_code == 401
    page = api.get("/samples").json()
    assert page["total"] == 6 and len(page["items"]) == 6
    assert [(dataset["kind"], dataset["rows"]) for dataset in page["datasets"]] == [
        ("instruction", 4),
        ("preference", 2),
    ]
    assert page["datasets"][0]["version"].startswith("instruct_datasets version ")
    assert answers(api.get("/samples", params={"kind": "preference"})) == [KAFKA, page["items"][5]["answer"]]
    assert answers(api.get("/samples", params={"author": "Theo Brandt"})) == [KAFKA, KAFKA]
    assert answers(api.get("/samples", params={"category": "articles", "limit": 2})) == [MEASURE, SPOT]
    assert answers(api.get("/samples", params={"category": "articles", "offset": 2})) == [page["items"][2]["answer"]]
    assert answers(api.get("/samples", params={"after": page["items"][3]["id"]})) == [KAFKA, page["items"][5]["answer"]]
    bad = api.get("/samples", params={"status": "maybe"})
    assert bad.status_code == 422 and "status" in bad.json()["error"]["message"]

    pair = api.get(f"/samples/{page['items'][4]['id']}").json()
    assert (pair["kind"], pair["instruction"], pair["answer"], pair["rejected"]) == (
        "preference",
        "Do small teams need Kafka?",
        KAFKA,
        GENERIC_KAFKA,
    )
    assert pair["author_full_name"] == "Theo Brandt" and pair["version"] == 0
    assert pair["source"]["found"] and pair["source"]["answer_found"]
    assert pair["source"]["link"] == "https://www.linkedin.com/posts/theo-kafka"
    assert pair["source"]["excerpt"] == KAFKA
    missing = api.get("/samples/no-such-row")
    assert missing.status_code == 404 and "reload the list" in missing.json()["error"]["message"]


def test_verdicts_are_saved_and_a_stale_one_is_refused_with_409(api: httpx.Client) -> None:
    first, second, *_ = api.get("/samples").json()["items"]
    saved = api.post(f"/samples/{first['id']}/verdict", json={"verdict": "accept", "reviewer": "Theo", "version": 0})
    assert saved.status_code == 200, saved.text
    assert (saved.json()["status"], saved.json()["version"]) == ("accepted", 1)
    assert saved.json()["review"]["reviewer"] == "Theo"

    stale = api.post(f"/samples/{first['id']}/verdict", json={"verdict": "reject", "reviewer": "Maya", "version": 0})
    assert stale.status_code == 409
    error = stale.json()["error"]
    assert error["type"] == "conflict_error"
    assert "reviewed by Theo" in error["message"] and "reload the row and review it again" in error["message"]

    edit = {"verdict": "edit", "reviewer": "Maya", "version": 0, "answer": "Spot instances halved it."}
    assert api.post(f"/samples/{second['id']}/verdict", json=edit).json()["status"] == "edited"
    empty = api.post(f"/samples/{second['id']}/verdict", json={**edit, "version": 1, "answer": " "})
    assert empty.status_code == 422 and "an edit is empty" in empty.json()["error"]["message"]
    unknown = api.post("/samples/no-such-row/verdict", json={"verdict": "accept", "reviewer": "Maya", "version": 0})
    assert unknown.status_code == 404

    assert answers(api.get("/samples", params={"status": "accepted"})) == [MEASURE]
    assert api.get("/samples").json()["total"] == 4
    progress = api.get("/progress", params={"kind": "instruction"}).json()
    [instruction] = progress["kinds"]
    assert (instruction["reviewed"], instruction["accepted"], instruction["edited"], instruction["pending"]) == (
        2,
        1,
        1,
        2,
    )
    strategies = {row["strategy"]: (row["reviewed"], row["acceptance_rate"]) for row in instruction["strategies"]}
    assert strategies == {"backtranslation": (1, 1.0), "structure": (1, 0.0)}
    assert progress["authors"] == ["Maya Okafor", "Theo Brandt"]


def test_a_newer_dataset_in_the_registry_replaces_the_loaded_one(service: ReviewService, api: httpx.Client) -> None:
    from zenml import save_artifact

    assert api.get("/samples", params={"kind": "instruction"}).json()["total"] == 4
    articles = service.material.instruct.splits[DataCategory.ARTICLES]
    newer = save_artifact(InstructDataset(splits={DataCategory.ARTICLES: articles}), name="instruct_datasets")
    page = api.get("/samples", params={"kind": "instruction"}).json()
    assert page["total"] == 3
    assert page["datasets"][0]["version"] == f"instruct_datasets version {newer.version}"


def test_the_review_page_is_served_without_data(service: ReviewService) -> None:
    page = httpx.get(f"{service.url}/review")
    assert page.status_code == 200 and "Dataset review" in page.text
    assert "api/reviews/" in page.text and "Maya" not in page.text
