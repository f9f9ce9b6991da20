"""Crawl throughput: sequential against concurrent crawl_links over generated article pages on local servers.

    python bench/crawl.py [--pages 200] [--domains 4] [--latency-ms 40] [--workers 16] [--per-domain 4]

Serves --pages generated articles from --domains loopback hosts (127.0.0.1, 127.0.0.2, ...), each answer delayed by
--latency-ms to stand in for the network, and crawls them all with the generic article crawler into a fresh
embedded warehouse: once one link at a time, once with a thread pool bounded per domain. The politeness
delay is off in both runs so that the figures compare crawling, not waiting. The last line is one JSON object.
"""

import argparse
import json
import sys
import tempfile
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from loguru import logger
from pymongo import MongoClient

from llm_engineering.application.etl import EtlReport, crawl_links
from llm_engineering.bootstrap.crawling import build_crawler_dispatcher
from llm_engineering.domain.crawling import CrawlerOptions
from llm_engineering.infrastructure.db.mongo import MongoDataWarehouse
from llm_engineering.infrastructure.local.loopback import free_port
from llm_engineering.infrastructure.local.mongo_server import LocalMongoServer
from llm_engineering.settings import load_settings

TOPICS = ["feature stores", "drift alerts", "GPU bills", "data contracts", "notebooks", "as-of joins", "on-call"]


def article_page(index: int) -> bytes:
    """A blog-like article of about 450 words, different for every index."""
    topic = TOPICS[index % len(TOPICS)]
    paragraphs = "".join(
        f"<p>Note {index}.{part} on {topic}: the team measured the change for {part + 2} weeks, wrote down what "
        f"moved and what did not, and kept the numbers next to the code so that the next person who touches "
        f"{topic} can see why it works the way it does. Most of the work was bookkeeping, not cleverness.</p>"
        for part in range(8)
    )
    return (
        f"<!DOCTYPE html><html lang='en'><head><title>Article {index} about {topic}</title>"
        f"<meta name='description' content='What we learned about {topic}, part {index}.'></head><body>"
        f"<nav><a href='/'>Home</a> <a href='/about'>About</a></nav><article><h1>Article {index} about {topic}</h1>"
        f"{paragraphs}<pre><code>def step_{index}(rows):\n    return [row for row in rows if row]\n</code></pre>"
        f"</article><footer>Copyright the bench.</footer></body></html>"
    ).encode()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    latency_s: float


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        return

    def do_GET(self) -> None:
        time.sleep(self.server.latency_s)
        if self.path == "/robots.txt":
            body, content_type = b"User-agent: *\nAllow: /\n", "text/plain"
        else:
            body, content_type = article_page(int(self.path.rsplit("/", 1)[-1])), "text/html; charset=utf-8"
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def serve(host: str, latency_s: float) -> _Server:
    server = _Server((host, 0), _Handler)
    server.latency_s = latency_s
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return server


def timed_run(label: str, links: list[str], warehouse: MongoDataWarehouse, workers: int, per_domain: int) -> float:
    """Pages per second of one crawl_links run over fresh documents; every link must be created."""
    dispatcher = build_crawler_dispatcher(
        load_settings(_env_file=None, CRAWLER_ALLOW_PRIVATE_NETWORKS=True),
        CrawlerOptions(min_domain_interval_s=0.0, timeout_s=10.0),
    )
    start = time.perf_counter()
    report: EtlReport = crawl_links(
        f"Bench {label}",
        links,
        dispatcher=dispatcher,
        repository=warehouse,
        progress=False,
        max_workers=workers,
        max_per_domain=per_domain,
    )
    elapsed = time.perf_counter() - start
    if report.counts()["created"] != len(links):
        raise SystemExit(f"{label} run did not create every page: {report.counts()}\n{report.render_table()}")
    return len(links) / elapsed


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=200)
    parser.add_argument("--domains", type=int, default=4)
    parser.add_argument("--latency-ms", type=float, default=40.0)
    parser.add_argument("--workers", type=int, default=16)
    parser.add_argument("--per-domain", type=int, default=4)
    args = parser.parse_args(argv)
    if args.pages < 200:
        parser.error("--pages must be at least 200")
    logger.remove()
    logger.add(sys.stderr, level="WARNING")

    hosts = [f"127.0.0.{index + 1}" for index in range(args.domains)]
    servers = [serve(host, args.latency_ms / 1000) for host in hosts]
    origins = [f"http://{host}:{server.server_port}" for host, server in zip(hosts, servers, strict=True)]
    links = [f"{origins[page % len(origins)]}/articles/{page}" for page in range(args.pages)]
    with tempfile.TemporaryDirectory(prefix="llm-twin-bench-crawl-") as scratch:
        mongo = LocalMongoServer(data_dir=Path(scratch), port=free_port())
        mongo.start()
        client: MongoClient[dict[str, object]] = MongoClient(mongo.uri, tz_aware=True)
        try:
            warehouse = MongoDataWarehouse(client["bench_crawl"])
            sequential = timed_run("Sequential", links, warehouse, workers=1, per_domain=1)
            concurrent = timed_run("Concurrent", links, warehouse, workers=args.workers, per_domain=args.per_domain)
        finally:
            client.close()
            mongo.stop()
    for server in servers:
        server.shutdown()
    print(f"{args.pages} pages on {args.domains} domains, {args.latency_ms:g} ms server latency")
    print(f"sequential: {sequential:.1f} pages/s")
    print(f"concurrent: {concurrent:.1f} pages/s ({args.workers} workers, at most {args.per_domain} per domain)")
    print(f"speed-up:   {concurrent / sequential:.2f}x")
    result = {
        "pages": args.pages,
        "domains": args.domains,
        "latency_ms": args.latency_ms,
        "workers": args.workers,
        "per_domain": args.per_domain,
        "sequential_pages_per_s": round(sequential, 2),
        "concurrent_pages_per_s": round(concurrent, 2),
        "speedup": round(concurrent / sequential, 2),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
