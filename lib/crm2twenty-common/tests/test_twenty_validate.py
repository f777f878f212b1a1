"""E-mail and URL checks on real cases: what CRM exports carry and what Twenty accepts."""

from __future__ import annotations

import pytest
from crm2twenty_common.twenty import email_address, is_email, is_url, web_url


@pytest.mark.parametrize(
    "text",
    [
        "ada@example.com",
        "first.last+tag@sub.example.co.uk",
        "o'brien@example.ie",
        "x@y.io",
        "ADA@EXAMPLE.COM",
    ],
)
def test_real_addresses_pass(text: str) -> None:
    assert is_email(text)


@pytest.mark.parametrize(
    "text",
    [
        "ada",
        "ada@",
        "@example.com",
        "ada@example",
        "ada@example.",
        "ada@@example.com",
        "ada @example.com",
        "ada@example.com ",  # not trimmed by is_email
        "ada@example.com; bob@example.com",
        "n/a",
        "",
    ],
)
def test_non_addresses_fail(text: str) -> None:
    assert not is_email(text)


def test_email_address_normalises_like_twenty() -> None:
    assert email_address("  Ada@Example.COM ") == "ada@example.com"
    assert email_address("mailto:ada@example.com") == "ada@example.com"
    assert email_address("ada at example.com") is None
    assert email_address("") is None


@pytest.mark.parametrize(
    ("text", "url"),
    [
        ("acme.com", "https://acme.com"),
        ("www.acme.com/", "https://www.acme.com"),
        ("HTTP://Acme.COM/About?x=1#top", "http://acme.com/About?x=1"),
        ("https://acme.co.uk:8443/path", "https://acme.co.uk:8443/path"),
        ("//acme.com", "https://acme.com"),
        (" https://acme.com ", "https://acme.com"),
    ],
)
def test_web_urls_are_canonical(text: str, url: str) -> None:
    assert web_url(text) == url
    assert is_url(url)


@pytest.mark.parametrize(
    "text",
    [
        "localhost",
        "https://localhost:8080",
        "acme",
        "acme com",
        "https://acme.com/a b",
        "",
        "a.com:x",
    ],
)
def test_non_urls_fail(text: str) -> None:
    assert web_url(text) is None


def test_is_url_takes_a_bare_domain_and_refuses_whitespace() -> None:
    assert is_url("acme.com")
    assert is_url("https://acme.com/x?y=1")
    assert not is_url("acme")
    assert not is_url("https://acme .com")


def test_web_url_fast_path_agrees_with_the_round_trip() -> None:
    """URLs already in normal form are returned as they stand; for every one the fast path
    takes, the urlsplit round trip must give the same text (seeded random URLs)."""
    import random
    import re
    import string

    from crm2twenty_common.twenty import validate

    rng = random.Random(7)
    host = string.ascii_lowercase + string.digits + "-."
    path = string.ascii_letters + string.digits + "-._~/:@!$&'()*+,;=%é[]"
    taken = 0
    for _ in range(20_000):
        text = rng.choice(["https://", "http://"]) + "".join(
            rng.choice(host) for _ in range(rng.randint(1, 12))
        )
        if rng.random() < 0.8:
            text += "/" + "".join(rng.choice(path) for _ in range(rng.randint(0, 12)))
        if not validate._NORMAL_URL.fullmatch(text):
            continue
        taken += 1
        fast = web_url(text)
        saved, validate._NORMAL_URL = validate._NORMAL_URL, re.compile(r"(?!)")
        try:
            assert web_url(text) == fast == text, text
        finally:
            validate._NORMAL_URL = saved
    assert taken > 1000  # the check covered the fast path, not only the slow one
    assert web_url("https://acme.com/") == "https://acme.com"  # a bare "/" is not taken as is
    assert web_url("HTTPS://Acme.com/x") == "https://acme.com/x"
