"""The hand-written retrieval question set asks about documents that exist, in the kinds it says it has."""

import json
from collections import Counter
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def test_every_question_names_a_sample_document_and_a_known_kind() -> None:
    questions = yaml.safe_load((ROOT / "bench" / "questions" / "sample_corpus.yaml").read_text())["questions"]
    documents = {
        str(record["id"]): category
        for category in ("articles", "posts", "repositories")
        for record in json.loads((ROOT / "data" / "sample" / f"{category}.json").read_text())
    }
    assert len(questions) == 60
    assert {q["document_id"] for q in questions} <= documents.keys()
    assert Counter(q["kind"] for q in questions) == {"paraphrase": 30, "exact-term": 20, "author": 10}
    assert Counter(documents[q["document_id"]] for q in questions) == {"articles": 30, "posts": 20, "repositories": 10}
    assert len({q["question"] for q in questions}) == 60
