"""Benchmark of the review API: a reviewer's calls against the service in this process, on the real stores.

    python bench/review_api.py [--instruction-rows 3000] [--preference-rows 1000] [--verdicts 1000] [--pages 1000]
                               [--page-size 20] [--authors 10]

Starts the real Mongo-wire server (SecantusDB) and a ZenML store, both in a scratch folder (nothing touches yours),
stores documents of --authors authors in the warehouse, saves instruction and preference datasets made from them as
the `instruct_datasets` and `preference_datasets` artifacts, and serves the app with uvicorn on 127.0.0.1 (a thread
of this process). One httpx client then works as the review page does, row after row: it reads a page of pending
rows (filtered in turn by nothing, kind, author, category), opens the first row (its source excerpt), submits a
verdict on it (accept, reject, edit, or for a pair swap, in turn) and reads the progress counts; --verdicts rows in
all, and reads of pending pages alone until there were --pages of them.

Each kind of call gets its p50, p95 and max next to the goal, p95 < 50 ms. The desk's refresh (every
API_REVIEW_REFRESH_S, 5 s by default: the registry asked for newer datasets and the reviews re-read) runs inside the
calls that fall due, and those calls are in the figures. The first call, which loads the datasets, is timed apart.
The last line is one JSON object with the figures.
"""

import argparse
import json
import logging
import os
import statistics
import sys
import tempfile
import time
from functools import partial
from pathlib import Path
from typing import Any

import httpx
from loguru import logger

from bench.serve import StandInAnswerer
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
from llm_engineering.infrastructure.local.loopback import free_port, serving

GOAL_P95_MS = 50.0
KEY = "bench-review-key"
ROWS_PER_DOCUMENT = 4
TOPICS = ["GPU bills", "feature stores", "point-in-time joins", "shadow deployments", "retrieval quality", "on-call"]
CALLS = ("list_pending", "open_row", "submit_verdict", "progress")


def _answer(index: int) -> str:
    topic = TOPICS[index % len(TOPICS)]
    return f"On {topic} (note {index}) I measure first, then I write down what the numbers say, and only then I decide."


def bench_material(
    instruction_rows: int, preference_rows: int, authors: int
) -> tuple[list[Document], InstructDataset, PreferenceDataset]:
    """Documents whose text holds their rows' answers, and the two datasets (a tenth of each in the test split)."""
    people = [UserDocument.from_full_name(f"Author{index} Bench") for index in range(authors)]
    total = max(instruction_rows, preference_rows)
    documents: list[Document] = []
    for number in range(0, total, ROWS_PER_DOCUMENT):
        author = people[(number // ROWS_PER_DOCUMENT) % authors]
        text = " ".join(_answer(index) for index in range(number, min(total, number + ROWS_PER_DOCUMENT)))
        link = f"https://example.org/{author.first_name.lower()}/{number}"
        if (number // ROWS_PER_DOCUMENT) % 2:
            documents.append(PostDocument.create(author=author, platform="linkedin", link=link, content={"text": text}))
        else:
            content = {"title": f"Notes {number}", "subtitle": "", "content": text}
            documents.append(ArticleDocument.create(author=author, platform="medium", link=link, content=content))

    def source(index: int) -> Document:
        return documents[index // ROWS_PER_DOCUMENT]

    instruct: dict[DataCategory, InstructSplit] = {}
    for index in range(instruction_rows):
        document = source(index)
        strategy: GenerationStrategy = "structure" if index % 3 == 0 else "backtranslation"
        row = InstructSample(
            instruction=f"What do you do about {TOPICS[index % len(TOPICS)]} (case {index})?",
            output=_answer(index),
            category=document.category,
            document_id=document.id,
            strategy=strategy,
        )
        split = instruct.setdefault(document.category, InstructSplit())
        (split.test if index % 10 == 9 else split.train).append(row)
    preference: dict[DataCategory, PreferenceSplit] = {}
    for index in range(preference_rows):
        document = source(index)
        pair = PreferenceSample(
            prompt=f"How do you handle {TOPICS[index % len(TOPICS)]} (case {index})?",
            chosen=_answer(index),
            rejected="It depends on many factors and there are several approaches to consider.",
            category=document.category,
            document_id=document.id,
            strategy="generate" if index % 2 else "backtranslation",
        )
        pairs = preference.setdefault(document.category, PreferenceSplit())
        (pairs.test if index % 10 == 9 else pairs.train).append(pair)
    return documents, InstructDataset(splits=instruct), PreferenceDataset(splits=preference)


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def _verdict(index: int, row: dict[str, Any]) -> dict[str, Any]:
    """Accept, reject, edit and (for a pair) swap in turn, made on the version the row was read at."""
    body: dict[str, Any] = {"reviewer": "Bench Reviewer", "version": row["version"]}
    turn = index % 4
    if turn == 2:
        return {**body, "verdict": "edit", "answer": f"{row['answer']} (edited)"}
    if turn == 3 and row["kind"] == "preference":
        return {**body, "verdict": "swap"}
    return {**body, "verdict": "reject" if turn == 1 else "accept"}


def drive(url: str, verdicts: int, pages: int, page_size: int, authors: list[str]) -> dict[str, list[float]]:
    """The reviewer's calls, timed one by one (milliseconds)."""
    latencies: dict[str, list[float]] = {name: [] for name in CALLS}
    filters: list[dict[str, str]] = [{}, {"kind": "instruction"}, {"kind": "preference"}, {"category": "posts"}]
    filters += [{"author": author} for author in authors]
    headers = {"Authorization": f"Bearer {KEY}"}
    with httpx.Client(base_url=f"{url}/api/reviews", headers=headers, timeout=30) as client:

        def call(name: str, method: str, path: str, **kwargs: Any) -> Any:
            start = time.perf_counter()
            response = client.request(method, path, **kwargs)
            latencies[name].append((time.perf_counter() - start) * 1000)
            if response.status_code != 200:
                raise SystemExit(f"{method} {path} answered {response.status_code}: {response.text[:300]}")
            return response.json()

        for index in range(max(verdicts, pages)):
            params = {**filters[index % len(filters)], "limit": str(page_size)}
            page = call("list_pending", "GET", "/samples", params=params)
            if index >= verdicts:
                continue
            if not page["items"]:
                raise SystemExit(f"no pending row left under {params} after {index} verdicts; add rows")
            row = call("open_row", "GET", f"/samples/{page['items'][0]['id']}")
            call("submit_verdict", "POST", f"/samples/{row['id']}/verdict", json=_verdict(index, row))
            call("progress", "GET", "/progress")
    return latencies


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--instruction-rows", type=int, default=3000)
    parser.add_argument("--preference-rows", type=int, default=1000)
    parser.add_argument("--verdicts", type=int, default=1000)
    parser.add_argument("--pages", type=int, default=1000, help="pages of pending rows read in all")
    parser.add_argument("--page-size", type=int, default=20)
    parser.add_argument("--authors", type=int, default=10)
    args = parser.parse_args(argv)
    if args.verdicts > args.instruction_rows + args.preference_rows:
        parser.error("--verdicts must not exceed the rows")
    logger.remove()
    logger.add(sys.stderr, level="WARNING")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request otherwise, once ZenML sets up logging

    with tempfile.TemporaryDirectory(prefix="llm-twin-bench-reviews-") as scratch:
        # A ZenML store of its own, set before ZenML is first imported: the bench's artifacts stay out of yours.
        os.environ["ZENML_CONFIG_PATH"] = str(Path(scratch) / "zenml")
        os.environ.setdefault("ZENML_ANALYTICS_OPT_IN", "false")
        from zenml import save_artifact

        from llm_engineering.bootstrap.review_desk import build_review_desk
        from llm_engineering.infrastructure.api.app import create_app
        from llm_engineering.infrastructure.api.dependencies import ServiceConfig
        from llm_engineering.infrastructure.db.mongo import MongoDataWarehouse, connect_mongo
        from llm_engineering.infrastructure.local.mongo_server import LocalMongoServer
        from llm_engineering.settings import load_settings

        mongo_port, api_port = free_port(), free_port()
        settings = load_settings(
            _env_file=None,
            DATA_DIR=Path(scratch) / "data",
            DATABASE_HOST=None,
            LOCAL_DATABASE_PORT=mongo_port,
            DATABASE_NAME="bench_reviews",
            API_KEY=KEY,
        )
        mongo = LocalMongoServer.from_settings(settings)
        mongo.start()
        try:
            start = time.perf_counter()
            documents, instruct, preference = bench_material(args.instruction_rows, args.preference_rows, args.authors)
            client = connect_mongo(settings)
            warehouse = MongoDataWarehouse(client[settings.DATABASE_NAME])
            warehouse.upsert_documents(documents)
            client.close()
            save_artifact(instruct, name="instruct_datasets")
            save_artifact(preference, name="preference_datasets")
            setup_s = time.perf_counter() - start
            app = create_app(
                ServiceConfig.from_settings(settings), StandInAnswerer, None, partial(build_review_desk, settings)
            )
            with serving(app, api_port) as url:
                start = time.perf_counter()
                first = httpx.get(
                    f"{url}/api/reviews/progress", headers={"Authorization": f"Bearer {KEY}"}, timeout=120
                )
                first_ms = (time.perf_counter() - start) * 1000
                if first.status_code != 200:
                    raise SystemExit(f"the review desk did not load: {first.status_code} {first.text[:300]}")
                authors = first.json()["authors"]
                start = time.perf_counter()
                latencies = drive(url, args.verdicts, args.pages, args.page_size, authors)
                drive_s = time.perf_counter() - start
        finally:
            mongo.stop()

    rows = args.instruction_rows + args.preference_rows
    print(
        f"{rows} rows ({args.instruction_rows} instruction, {args.preference_rows} preference), {len(documents)} "
        f"documents of {args.authors} authors; setup {setup_s:.1f} s (warehouse + ZenML artifacts)"
    )
    print(f"first call (builds the desk, loads both datasets and their reviews): {first_ms:.0f} ms")
    print(f"{'call':<16}{'calls':>7}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}   goal p95 < {GOAL_P95_MS:g} ms")
    result: dict[str, Any] = {
        "rows": rows,
        "documents": len(documents),
        "page_size": args.page_size,
        "first_call_ms": round(first_ms, 1),
        "drive_s": round(drive_s, 1),
        "goal_p95_ms": GOAL_P95_MS,
    }
    for name in CALLS:
        values = latencies[name]
        p50, p95 = statistics.median(values), _percentile(values, 0.95)
        verdict = "met" if p95 < GOAL_P95_MS else "MISSED"
        print(f"{name:<16}{len(values):>7}{p50:>9.1f}{p95:>9.1f}{max(values):>9.1f}   {verdict}")
        result[name] = {
            "calls": len(values),
            "p50_ms": round(p50, 2),
            "p95_ms": round(p95, 2),
            "max_ms": round(max(values), 2),
        }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
