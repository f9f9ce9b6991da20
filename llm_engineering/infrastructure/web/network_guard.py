"""SSRF guard: a link whose host resolves to a private, loopback or link-local address is refused."""

import ipaddress
import socket
from urllib.parse import urlsplit

from llm_engineering.domain.exceptions import CrawlError, LinkRefusedError
from llm_engineering.domain.links import DEFAULT_PORTS

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def is_internal(address: IPAddress) -> bool:
    """True for addresses that reach this machine or its private network rather than the public internet."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_reserved
        or address.is_multicast
        or address.is_unspecified
        or not address.is_global
    )


class NetworkGuard:
    """Resolves a link's host and refuses internal addresses unless private networks are allowed."""

    def __init__(self, *, allow_private_networks: bool) -> None:
        self.allow_private_networks = allow_private_networks

    def resolve(self, url: str) -> list[str]:
        """The checked addresses of url's host, in resolver order; raises LinkRefusedError for internal ones."""
        parts = urlsplit(url)
        if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
            raise LinkRefusedError(f"{url}: only http and https links are crawled")
        host = parts.hostname
        try:
            infos = socket.getaddrinfo(host, parts.port or DEFAULT_PORTS[parts.scheme], type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as error:
            raise CrawlError(f"cannot resolve host {host!r} ({error}); check the link and the network") from error
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        if not self.allow_private_networks:
            for address in addresses:
                if is_internal(ipaddress.ip_address(address.split("%", 1)[0])):
                    raise LinkRefusedError(
                        f"{url}: host {host!r} resolves to {address}, a private, loopback or link-local address; "
                        "refused to protect internal services (set CRAWLER_ALLOW_PRIVATE_NETWORKS=true to allow it)"
                    )
        return addresses
