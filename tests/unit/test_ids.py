from uuid import uuid4

from llm_engineering.domain.ids import chunk_id, content_hash, document_id, user_id


def test_user_id_ignores_spacing_and_case() -> None:
    assert user_id("Maya  Okafor") == user_id("maya okafor")
    assert user_id("Maya Okafor") != user_id("Theo Brandt")


def test_document_id_is_stable_and_separates_authors() -> None:
    alice, bob = uuid4(), uuid4()
    link = "https://medium.com/@x/post-1"
    assert document_id("medium", link, alice) == document_id("medium", link, alice)
    assert document_id("medium", link, alice) != document_id("medium", link, bob)
    assert document_id("medium", link, alice) != document_id("substack", link, alice)


def test_chunk_id_depends_on_document_and_index() -> None:
    doc = uuid4()
    assert chunk_id(doc, 0) == chunk_id(doc, 0)
    assert len({chunk_id(doc, i) for i in range(50)}) == 50
    assert chunk_id(doc, 0) != chunk_id(uuid4(), 0)


def test_content_hash_ignores_key_order_but_not_values() -> None:
    assert content_hash({"a": 1, "b": "x"}) == content_hash({"b": "x", "a": 1})
    assert content_hash({"a": 1}) != content_hash({"a": 2})
    assert content_hash({"text": "  indented"}) != content_hash({"text": "indented"})
