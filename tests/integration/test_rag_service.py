"""The REST service with the real twin (sample corpus, Qdrant Edge, MiniLM + BM25, SmolLM2) on a real uvicorn."""

from pathlib import Path

import httpx
import openai
import pytest

from llm_engineering.bootstrap.stores import build_vector_store
from llm_engineering.domain.types import DataCategory
from llm_engineering.infrastructure.db.mongo import MongoDataWarehouse
from llm_engineering.infrastructure.local.loopback import free_port, serving
from llm_engineering.settings import Settings
from tests.rag_support import prepare_sample_twin
from tools.ml_service import build_service


@pytest.mark.slow
def test_the_service_answers_from_the_real_twin_and_releases_the_store(
    settings: Settings, warehouse: MongoDataWarehouse, llm_models_dir: Path
) -> None:
    prepare_sample_twin(settings, warehouse, llm_models_dir)
    port = free_port()
    service_settings = settings.model_copy(update={"API_PORT": port, "API_MAX_NEW_TOKENS": 16})
    with serving(build_service(service_settings), port, start_timeout_s=180) as url:
        assert httpx.get(f"{url}/ready", timeout=30).json()["ready"] is True
        response = httpx.post(f"{url}/rag", json={"query": "Theo, is Spark worth it for small data?"}, timeout=120)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["answer"].strip() and body["model"] == "HuggingFaceTB/SmolLM2-135M-Instruct"
        assert body["sources"] and {source["author_full_name"] for source in body["sources"]} == {"Theo Brandt"}
        retrieved = httpx.post(f"{url}/retrieve", json={"query": "GPU bill", "k": 3}, timeout=60).json()
        assert {"dense", "fused"} <= set(retrieved["chunks"][0]["scores"])
        refused = httpx.post(f"{url}/rag", json={"query": "Как снизить расходы на GPU?"}, timeout=60)
        assert refused.status_code == 422 and "cannot read" in refused.text
        client = openai.OpenAI(base_url=f"{url}/v1", api_key="unused", max_retries=0, timeout=120)
        stream = client.chat.completions.create(
            model=body["model"],
            messages=[{"role": "user", "content": "Maya, what did idle notebooks cost?"}],
            stream=True,
        )
        assert "".join(chunk.choices[0].delta.content or "" for chunk in stream).strip()
    store = build_vector_store(settings, lock_wait_s=0)
    try:
        assert store.count(DataCategory.POSTS.embedded_collection) > 0
    finally:
        store.close()
