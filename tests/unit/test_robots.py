"""robots.txt read as RFC 9309 says: wildcards, end anchors, the longest match between Allow and Disallow, and what
an unavailable or failing robots.txt means."""

import pytest

from llm_engineering.domain.exceptions import CrawlError, LinkRefusedError
from llm_engineering.infrastructure.web.robots import RobotsPolicy

SITE = "https://blog.example"


def policy(status: int, text: str = "") -> RobotsPolicy:
    return RobotsPolicy(lambda url: (status, text), user_agent="LLMTwinBot")


def allowed(rules: RobotsPolicy, path: str) -> bool:
    try:
        rules.check(SITE + path)
    except LinkRefusedError:
        return False
    return True


def test_the_longest_matching_rule_wins_whichever_comes_first() -> None:
    rules = policy(200, "User-agent: *\nDisallow: /example/page/disallowed.gif\nAllow: /example/page/\n")
    assert allowed(rules, "/example/page/")
    assert allowed(rules, "/example/page/other.gif")
    assert not allowed(rules, "/example/page/disallowed.gif")
    # The reverse order reads the same (urllib.robotparser took the first match).
    rules = policy(200, "User-agent: *\nAllow: /\nDisallow: /drafts/\n")
    assert not allowed(rules, "/drafts/next-post")


def test_allow_wins_a_tie_between_equally_long_rules() -> None:
    rules = policy(200, "User-agent: *\nDisallow: /example\nAllow: /example\n")
    assert allowed(rules, "/example")


def test_a_star_matches_any_run_of_characters() -> None:
    rules = policy(200, "User-agent: *\nDisallow: /path/file-with-a-*.html\n")
    assert not allowed(rules, "/path/file-with-a-foo.html")
    assert not allowed(rules, "/path/file-with-a-.html")
    assert not allowed(rules, "/path/file-with-a-foo/bar.html")
    assert allowed(rules, "/path/file-with-b-foo.html")


def test_a_dollar_anchors_the_rule_at_the_end_of_the_path() -> None:
    rules = policy(200, "User-agent: *\nDisallow: /path/foo-$\nDisallow: /*.gif$\n")
    assert not allowed(rules, "/path/foo-")
    assert allowed(rules, "/path/foo-bar")
    assert not allowed(rules, "/images/cat.gif")
    assert allowed(rules, "/images/cat.gif?size=2")


def test_the_group_for_this_crawler_is_the_one_obeyed() -> None:
    rules = policy(200, "User-agent: *\nDisallow: /\n\nUser-agent: LLMTwinBot\nAllow: /\nDisallow: /private/\n")
    assert allowed(rules, "/posts/one")
    assert not allowed(rules, "/private/notes")


@pytest.mark.parametrize(("status", "open_site"), [(404, True), (403, True), (500, False), (503, False)])
def test_an_unavailable_robots_txt_restricts_nothing_and_a_failing_server_everything(
    status: int, open_site: bool
) -> None:
    assert allowed(policy(status, "User-agent: *\nDisallow: /\n"), "/posts/one") is open_site


def test_an_unreachable_robots_txt_disallows_the_site_with_the_reason() -> None:
    def unreachable(url: str) -> tuple[int, str]:
        raise CrawlError(f"{url}: connection refused")

    with pytest.raises(LinkRefusedError, match=r"robots\.txt of https://blog\.example disallows /posts/one"):
        RobotsPolicy(unreachable, user_agent="LLMTwinBot").check(SITE + "/posts/one")


def test_robots_txt_is_fetched_once_per_origin() -> None:
    fetched: list[str] = []

    def source(url: str) -> tuple[int, str]:
        fetched.append(url)
        return 200, "User-agent: *\nDisallow: /private/\n"

    rules = RobotsPolicy(source, user_agent="LLMTwinBot")
    for path in ("/a", "/b", "/private/c"):
        allowed(rules, path)
    assert fetched == [SITE + "/robots.txt"]
