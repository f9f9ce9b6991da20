"""The review routes through TestClient, on a desk over in-memory ports: auth, the desk built on first use (and again
after a failed build), and the desk's errors as HTTP statuses."""

from collections.abc import Callable

from fastapi.testclient import TestClient

from llm_engineering.application.dataset.review_desk import DatasetReviewDesk
from llm_engineering.domain.exceptions import DataWarehouseUnavailableError
from llm_engineering.domain.review_desk import ReviewDesk
from llm_engineering.infrastructure.api.app import create_app
from llm_engineering.infrastructure.api.dependencies import ServiceConfig
from llm_engineering.settings import load_settings
from tests.fakes import MemoryDatasetArtifacts, MemoryDocuments, MemoryReviewStore
from tests.review_support import MEASURE, review_material
from tests.twin_fakes import ScriptedAnswerer

KEY = "review-unit-key"
AUTH = {"Authorization": f"Bearer {KEY}"}


def memory_desk() -> DatasetReviewDesk:
    material = review_material()
    artifacts = MemoryDatasetArtifacts()
    artifacts.save("instruction", material.instruct)
    artifacts.save("preference", material.preference)
    return DatasetReviewDesk(artifacts, MemoryReviewStore(), MemoryDocuments(material.documents), refresh_s=60)


def client_for(factory: Callable[[], ReviewDesk] | None) -> TestClient:
    config = ServiceConfig.from_settings(load_settings(_env_file=None, API_KEY=KEY))
    return TestClient(create_app(config, ScriptedAnswerer, None, factory))


def test_the_desk_is_built_on_the_first_review_request_behind_the_key() -> None:
    built: list[DatasetReviewDesk] = []

    def factory() -> DatasetReviewDesk:
        built.append(memory_desk())
        return built[-1]

    with client_for(factory) as client:
        assert client.get("/health").status_code == 200 and built == []
        assert client.get("/review").status_code == 200 and built == []
        assert client.get("/api/reviews/progress").status_code == 401 and built == []
        page = client.get("/api/reviews/samples", headers=AUTH).json()
        assert page["items"][0]["answer"] == MEASURE
        assert client.get("/api/reviews/progress", headers=AUTH).status_code == 200
        assert len(built) == 1


def test_a_desk_that_cannot_be_built_answers_503_and_is_built_on_a_later_request() -> None:
    attempts: list[int] = []

    def factory() -> ReviewDesk:
        attempts.append(1)
        if len(attempts) == 1:
            raise DataWarehouseUnavailableError("Cannot reach MongoDB at mongodb://db:27017")
        return memory_desk()

    with client_for(factory) as client:
        failed = client.get("/api/reviews/samples", headers=AUTH)
        assert failed.status_code == 503
        assert "cannot reach the warehouse" in failed.json()["error"]["message"]
        assert "mongodb://" not in failed.text
        assert client.get("/api/reviews/samples", headers=AUTH).status_code == 200
    with client_for(None) as client:
        assert client.get("/api/reviews/samples", headers=AUTH).status_code == 503


def test_the_desks_errors_become_statuses_with_their_message() -> None:
    with client_for(memory_desk) as client:
        row = client.get("/api/reviews/samples", headers=AUTH).json()["items"][0]
        verdict = f"/api/reviews/samples/{row['id']}/verdict"
        accept = {"verdict": "accept", "reviewer": "Theo", "version": 0}
        assert client.post(verdict, json=accept, headers=AUTH).status_code == 200
        stale = client.post(verdict, json=accept, headers=AUTH)
        assert stale.status_code == 409 and stale.json()["error"]["type"] == "conflict_error"
        swap = client.post(verdict, json={**accept, "verdict": "swap", "version": 1}, headers=AUTH)
        assert swap.status_code == 422 and "swap exchanges a preference pair" in swap.json()["error"]["message"]
        unknown = client.post("/api/reviews/samples/nothing/verdict", json=accept, headers=AUTH)
        assert unknown.status_code == 404
        malformed = client.post(verdict, json={"verdict": "maybe", "reviewer": "Theo", "version": 0}, headers=AUTH)
        assert malformed.status_code == 422 and "verdict" in malformed.json()["error"]["message"]
        too_many = client.get("/api/reviews/samples", params={"limit": 500}, headers=AUTH)
        assert too_many.status_code == 422
