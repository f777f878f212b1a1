"""E-mail address and URL checks: what Twenty (and its spreadsheet import, which drops rows with
an invalid e-mail or URL) takes in an EMAILS or LINKS field.

The mapper's ``email`` / ``url`` transforms normalise with these; target-twenty checks with them
before writing, so a value the mapper let through is never refused by the target.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

# One "@", no whitespace, a dot in the domain with a non-empty last label. Deliberately loose
# (quoted local parts, IP-literal domains are rare in CRM exports); Twenty lower-cases e-mails
# and compares them case-insensitively (twentyhq/twenty PR #11042).
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
# An optional scheme, then a host with a dot, then an optional path, query or fragment.
URL_PATTERN = re.compile(
    r"^(?:[a-z][a-z0-9+.-]*://)?[^\s/?#]+\.[^\s/?#]+(?:[/?#]\S*)?$", re.IGNORECASE
)
_MAILTO = "mailto:"
# A URL already in the normal form web_url gives (lower-case scheme and host, no port, query or
# fragment, a path that is not a bare "/"): it is returned as it stands, without a round trip
# through urlsplit, which costs more than everything else here.
_NORMAL_URL = re.compile(r"https?://[a-z0-9-]+(?:\.[a-z0-9-]+)+(?:/[^\s?#/][^\s?#]*)?")


def is_email(text: str) -> bool:
    """Whether ``text`` is an e-mail address as it stands (no trimming, no ``mailto:``)."""
    return bool(EMAIL_PATTERN.match(text))


def email_address(text: str) -> str | None:
    """``text`` as Twenty stores an e-mail address (trimmed, lower-cased, a ``mailto:`` prefix
    dropped), or None when it is not one."""
    address = text.strip().lower()
    if address.startswith(_MAILTO):
        address = address[len(_MAILTO) :]
    return address if is_email(address) else None


def is_url(text: str) -> bool:
    """Whether ``text`` is a web address, with or without a scheme (``acme.com`` is one)."""
    return bool(URL_PATTERN.match(text))


def web_url(text: str) -> str | None:
    """``text`` as one canonical URL (``https://`` added when there is no scheme; scheme and host
    lower-cased; a bare ``/`` path and any fragment dropped), or None when it is not a URL."""
    text = text.strip()
    if _NORMAL_URL.fullmatch(text):
        return text
    if "://" not in text:
        text = "https://" + text.lstrip("/")
    if not is_url(text):
        return None
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:  # a port that is not a number
        return None
    host = (parts.hostname or "").lower()
    if "." not in host:
        return None
    netloc = host if port is None else f"{host}:{port}"
    path = parts.path if parts.path not in ("", "/") else ""
    return urlunsplit((parts.scheme.lower(), netloc, path, parts.query, ""))
