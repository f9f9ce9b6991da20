"""What GET /ready is told of each dependency: its own state and message, and which engine answers and why."""

from typing import cast

from llm_engineering.application.rag.retriever import ContextRetriever
from llm_engineering.application.rag.twin import RagTwin
from llm_engineering.domain.exceptions import DataWarehouseUnavailableError
from llm_engineering.domain.rag import ReadinessCheck


def refused() -> bool:
    raise DataWarehouseUnavailableError("mongodb://twin:hunter2@db:27017 refused the connection\nTraceback ...")


def test_each_check_has_its_own_state_and_message_and_the_engine_says_why_it_answers() -> None:
    twin = RagTwin(
        cast(ContextRetriever, object()),
        None,
        model_name="TwinLlama:2 (production)",
        readiness_checks={"warehouse": refused, "vector_store": lambda: False, "model": lambda: True},
        serving={"engine": "transformers bfloat16", "note": "the int8 export is not served: perplexity 1.04x"},
    )
    assert twin.readiness() == {
        "warehouse": ReadinessCheck(
            False, "DataWarehouseUnavailableError: mongodb://***@db:27017 refused the connection"
        ),
        "vector_store": ReadinessCheck(False, "does not answer"),
        "model": ReadinessCheck(True, "answers"),
        "engine": ReadinessCheck(True, "transformers bfloat16: the int8 export is not served: perplexity 1.04x"),
    }


def test_a_retrieval_only_twin_reports_no_engine() -> None:
    twin = RagTwin(
        cast(ContextRetriever, object()), None, model_name="none", readiness_checks={"warehouse": lambda: True}
    )
    assert twin.readiness() == {"warehouse": ReadinessCheck(True, "answers")}
