"""Link validation and normalisation: malformed links are rejected with the reason, before any request."""

import ipaddress
import re
from urllib.parse import urlsplit, urlunsplit

from llm_engineering.domain.exceptions import InvalidLinkError

MAX_LINK_LENGTH = 2048
DEFAULT_PORTS = {"http": 80, "https": 443}
_HOST_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def normalise_link(raw: str) -> str:
    """The canonical form of an http(s) link; raises InvalidLinkError naming what is wrong.

    Lower-case scheme and host, no default port, no fragment, no trailing slash (except the root path).
    """
    link = raw.strip()
    if not link:
        raise InvalidLinkError("invalid link '': the link is empty")
    if len(link) > MAX_LINK_LENGTH:
        raise InvalidLinkError(f"invalid link {link[:60]!r}...: longer than {MAX_LINK_LENGTH} characters")
    if any(char.isspace() or ord(char) < 0x20 for char in link):
        raise InvalidLinkError(f"invalid link {link!r}: contains spaces or control characters; percent-encode them")
    try:
        parts = urlsplit(link)
        port = parts.port
    except ValueError as error:
        raise InvalidLinkError(f"invalid link {link!r}: {error}") from error
    if not parts.scheme or not parts.netloc:
        raise InvalidLinkError(f"invalid link {link!r}: not an absolute URL; write it as https://host/path")
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise InvalidLinkError(f"invalid link {link!r}: scheme {scheme!r} is not supported; use http or https")
    if parts.username is not None or parts.password is not None:
        raise InvalidLinkError(f"invalid link {link!r}: contains credentials (user@host); remove them from the link")
    host = _normalise_host(link, parts.hostname or "")
    netloc = f"[{host}]" if ":" in host else host
    if port is not None and port != DEFAULT_PORTS[scheme]:
        netloc = f"{netloc}:{port}"
    path = parts.path.rstrip("/") or "/"
    return urlunsplit((scheme, netloc, path, parts.query, ""))


def _normalise_host(link: str, host: str) -> str:
    if not host:
        raise InvalidLinkError(f"invalid link {link!r}: it names no host")
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    try:
        ascii_host = host.rstrip(".").encode("idna").decode("ascii").lower()
    except UnicodeError as error:
        raise InvalidLinkError(f"invalid link {link!r}: host {host!r} is not a valid domain name ({error})") from error
    labels = ascii_host.split(".")
    if not all(_HOST_LABEL.match(label) for label in labels):
        raise InvalidLinkError(
            f"invalid link {link!r}: host {host!r} is not a valid domain name "
            "(labels are letters, digits and inner hyphens, separated by single dots)"
        )
    return ascii_host


def link_host(link: str) -> str:
    """The host a normalised link points to (no port): the key of per-domain accounting."""
    return urlsplit(link).hostname or ""


def link_port(link: str) -> int:
    """The port a normalised link connects to, explicit or the scheme's default."""
    parts = urlsplit(link)
    return parts.port or DEFAULT_PORTS[parts.scheme]
