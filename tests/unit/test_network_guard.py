import pytest

from llm_engineering.domain.exceptions import CrawlError, LinkRefusedError
from llm_engineering.infrastructure.web.network_guard import NetworkGuard

INTERNAL = [
    "http://127.0.0.1:8000/",
    "http://localhost/",
    "http://10.1.2.3/",
    "http://192.168.0.10/admin",
    "http://169.254.169.254/latest/meta-data/",
    "http://100.64.0.1/",
    "http://0.0.0.0/",
    "http://[::1]/",
    "http://[fe80::1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://224.0.0.1/",
]


@pytest.mark.parametrize("url", INTERNAL)
def test_internal_addresses_are_refused_by_default(url: str) -> None:
    with pytest.raises(LinkRefusedError, match="CRAWLER_ALLOW_PRIVATE_NETWORKS=true"):
        NetworkGuard(allow_private_networks=False).resolve(url)


@pytest.mark.parametrize("url", ["http://127.0.0.1:8000/", "http://localhost/", "http://10.1.2.3/"])
def test_internal_addresses_are_allowed_when_private_networks_are(url: str) -> None:
    assert NetworkGuard(allow_private_networks=True).resolve(url)


def test_public_addresses_pass() -> None:
    assert NetworkGuard(allow_private_networks=False).resolve("https://93.184.215.14/") == ["93.184.215.14"]


def test_unsupported_schemes_and_unresolvable_hosts_fail_with_the_reason() -> None:
    guard = NetworkGuard(allow_private_networks=True)
    with pytest.raises(LinkRefusedError, match="only http and https"):
        guard.resolve("file:///etc/passwd")
    with pytest.raises(CrawlError, match=r"cannot resolve host 'no-such-host\.invalid'"):
        guard.resolve("https://no-such-host.invalid/")
