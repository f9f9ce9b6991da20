import pytest

from llm_engineering.domain.exceptions import InvalidLinkError
from llm_engineering.domain.links import link_host, link_port, normalise_link


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  HTTPS://Medium.COM/@maya/story-1a2b#responses ", "https://medium.com/@maya/story-1a2b"),
        ("https://theobrandt.dev/blog/post/", "https://theobrandt.dev/blog/post"),
        ("https://theobrandt.dev", "https://theobrandt.dev/"),
        ("https://theobrandt.dev:443/a?page=2", "https://theobrandt.dev/a?page=2"),
        ("http://127.0.0.1:8000/blog/", "http://127.0.0.1:8000/blog"),
        ("https://bücher.example/path", "https://xn--bcher-kva.example/path"),
        ("http://[::1]:8080/x", "http://[::1]:8080/x"),
    ],
)
def test_links_are_normalised(raw: str, expected: str) -> None:
    assert normalise_link(raw) == expected


def test_normalising_twice_changes_nothing() -> None:
    once = normalise_link("https://Example.com/a/b/?q=1#top")
    assert normalise_link(once) == once


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "empty"),
        ("medium.com/@maya/story", "not an absolute URL"),
        ("ftp://example.com/file", "scheme 'ftp'"),
        ("https://maya:secret@example.com/", "credentials"),
        ("https://exa mple.com/", "spaces"),
        ("https://-bad-.example/", "not a valid domain name"),
        ("https://a..b.example/", "not a valid domain name"),
        ("http://[::1/", "Invalid IPv6"),
        ("https://example.com:99999/", "out of range"),
        ("https://" + "a" * 2100 + ".com/", "longer than"),
    ],
)
def test_malformed_links_are_rejected_with_the_reason(raw: str, reason: str) -> None:
    with pytest.raises(InvalidLinkError, match=reason):
        normalise_link(raw)


def test_host_and_port_of_a_link() -> None:
    assert link_host("https://mayaokafor.substack.com/p/x") == "mayaokafor.substack.com"
    assert link_port("https://mayaokafor.substack.com/p/x") == 443
    assert link_port("http://127.0.0.1:8000/") == 8000
