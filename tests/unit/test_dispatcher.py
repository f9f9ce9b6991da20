import pytest

from llm_engineering.application.crawlers.article import ArticleCrawler
from llm_engineering.application.crawlers.dispatcher import CrawlerDispatcher
from llm_engineering.bootstrap.crawling import build_fetcher
from llm_engineering.domain.crawling import CrawlerOptions
from llm_engineering.infrastructure.web.http_fetcher import HttpxWebFetcher
from llm_engineering.infrastructure.web.network_guard import NetworkGuard
from llm_engineering.infrastructure.web.rate_limit import DomainRateLimiter


@pytest.fixture
def fetcher() -> HttpxWebFetcher:
    return build_fetcher(CrawlerOptions(), NetworkGuard(allow_private_networks=False), DomainRateLimiter(0))


def test_domain_covers_its_subdomains_and_unknown_domains_fall_back(fetcher: HttpxWebFetcher) -> None:
    fallback, substack = ArticleCrawler(fetcher), ArticleCrawler(fetcher, platform="substack")
    dispatcher = CrawlerDispatcher(fallback).register("substack.com", substack)
    assert dispatcher.crawler_for("https://mayaokafor.substack.com/p/labels") is substack
    assert dispatcher.crawler_for("https://substack.com/@maya") is substack
    assert dispatcher.crawler_for("https://notsubstack.com/p/labels") is fallback
    assert dispatcher.crawler_for("https://theobrandt.dev/blog/x") is fallback


def test_most_specific_pattern_wins(fetcher: HttpxWebFetcher) -> None:
    fallback, host, path, port_path = (ArticleCrawler(fetcher) for _ in range(4))
    dispatcher = (
        CrawlerDispatcher(fallback)
        .register("127.0.0.1", host)
        .register("127.0.0.1/medium", path)
        .register("127.0.0.1:8000/medium", port_path)
    )
    assert dispatcher.crawler_for("http://127.0.0.1:8000/medium/@maya/story") is port_path
    assert dispatcher.crawler_for("http://127.0.0.1:9000/medium/@maya/story") is path
    assert dispatcher.crawler_for("http://127.0.0.1:8000/mediumish/story") is host
    assert dispatcher.crawler_for("http://127.0.0.1:8000/medium") is port_path


def test_registering_a_pattern_again_replaces_its_crawler(fetcher: HttpxWebFetcher) -> None:
    first, second = ArticleCrawler(fetcher), ArticleCrawler(fetcher)
    dispatcher = (
        CrawlerDispatcher(ArticleCrawler(fetcher)).register("medium.com", first).register("Medium.com/", second)
    )
    assert dispatcher.crawler_for("https://medium.com/@maya/story") is second


@pytest.mark.parametrize("pattern", ["", ":8000/path", "example.com:notaport"])
def test_a_pattern_without_a_host_or_with_a_bad_port_is_refused(fetcher: HttpxWebFetcher, pattern: str) -> None:
    with pytest.raises(ValueError, match="crawler pattern"):
        CrawlerDispatcher(ArticleCrawler(fetcher)).register(pattern, ArticleCrawler(fetcher))
