"""Twenty's naming rules, applied to names and values that come from source data.

Facts (shared/twenty/README.md, observed on a v2.21.0 server):
- field and object names must match ``^[a-z][a-zA-Z0-9]*$`` and be at most 63 characters;
- SELECT option values must match ``^[A-Z][A-Z0-9_]*$`` (stricter than the docs' pattern);
- some names are reserved; Twenty itself appends ``Custom`` to a reserved name
  (twenty-shared ``RESERVED_METADATA_NAME_KEYWORDS`` / ``addCustomSuffixIfIsReserved``).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

MAX_NAME_LENGTH = 63

# twenty-shared/src/metadata/constants/reserved-metadata-name-keywords.constant.ts (data, not code)
RESERVED_NAMES = frozenset(
    {
        "approvedAccessDomain",
        "approvedAccessDomains",
        "appToken",
        "appTokens",
        "billingCustomer",
        "billingCustomers",
        "billingEntitlement",
        "billingEntitlements",
        "billingMeter",
        "billingMeters",
        "billingProduct",
        "billingProducts",
        "billingSubscription",
        "billingSubscriptions",
        "billingSubscriptionItem",
        "billingSubscriptionItems",
        "featureFlag",
        "featureFlags",
        "job",
        "jobs",
        "keyValuePair",
        "keyValuePairs",
        "pageLayout",
        "pageLayouts",
        "pageLayoutTab",
        "pageLayoutTabs",
        "pageLayoutWidget",
        "pageLayoutWidgets",
        "postgresCredential",
        "postgresCredentials",
        "twoFactorMethod",
        "twoFactorMethods",
        "user",
        "users",
        "userWorkspace",
        "userWorkspaces",
        "workspace",
        "workspaces",
        "role",
        "roles",
        "userWorkspaceRole",
        "userWorkspaceRoles",
        "plan",
        "plans",
        "event",
        "events",
        "field",
        "fields",
        "link",
        "links",
        "currency",
        "currencies",
        "fullNames",
        "address",
        "addresses",
        "type",
        "types",
        "object",
        "objects",
        "index",
        "relation",
        "relations",
        "aggregate",
    }
)

_WORDS = re.compile(r"[A-Za-z0-9]+")
_CAMEL_SPLIT = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
FIELD_NAME = re.compile(r"^[a-z][a-zA-Z0-9]*$")
OPTION_VALUE = re.compile(r"^[A-Z][A-Z0-9_]*$")


def _ascii(text: str) -> str:
    """``"Négociation"`` → ``"Negociation"``: accents folded, other non-ASCII letters dropped."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def _words(text: str) -> list[str]:
    parts: list[str] = []
    for word in _WORDS.findall(_ascii(text)):
        parts.extend(_CAMEL_SPLIT.split(word))
    return [p for p in parts if p]


def camel_case(text: str, *, prefix: str = "field") -> str:
    """A valid Twenty field/object name for ``text`` (``"Favourite Colour"`` → ``favouriteColour``).

    Accents are folded and other non-ASCII letters dropped; a name that would start with a digit
    or be empty gets
    ``prefix`` in front; reserved names get Twenty's own ``Custom`` suffix.
    """
    words = _words(text)
    if not words:
        words = [prefix, hashlib.sha1(text.encode()).hexdigest()[:6]]
    name = words[0].lower() + "".join(w[:1].upper() + w[1:].lower() for w in words[1:])
    if not name[0].isalpha():
        name = prefix + name[:1].upper() + name[1:]
    name = name[:MAX_NAME_LENGTH]
    if name in RESERVED_NAMES:
        name = f"{name}Custom"
    return name


def label_case(text: str) -> str:
    """A human label from a column or field name: ``favourite_colour`` → ``Favourite Colour``."""
    words = [
        p
        for w in re.findall(r"\w+", text)
        for p in _CAMEL_SPLIT.split(w.replace("_", " "))
        for p in p.split()
    ]
    return " ".join(w[:1].upper() + w[1:] for w in words) or text


def option_value(text: str) -> str:
    """Slug a source pick-list value to a valid option value (``"Closed Won"`` → ``CLOSED_WON``).

    Values that would start with a digit get an ``OPT_`` prefix (``"2024 Q1"`` → ``OPT_2024_Q1``);
    values with no ASCII letters or digits get a short stable hash.
    """
    words = _WORDS.findall(_ascii(text))
    slug = "_".join(w.upper() for w in words)
    if not slug:
        return "OPT_" + hashlib.sha1(text.encode()).hexdigest()[:8].upper()
    if not slug[0].isalpha():
        slug = "OPT_" + slug
    return slug[:MAX_NAME_LENGTH]


def singular(name: str) -> str:
    """A stream's object name from its plural (``companies`` → ``company``)."""
    if name.endswith("ies"):
        return name[:-3] + "y"
    if name.lower().endswith("people"):
        return name[:-6] + name[-6] + "erson"
    if name.endswith(("ses", "xes", "ches", "shes")):
        return name[:-2]
    return name[:-1] if name.endswith("s") and not name.endswith("ss") else name


def plural(name: str) -> str:
    """An object's plural name (``person`` → ``people``)."""
    if name.lower().endswith("person"):
        return name[:-6] + name[-6] + "eople"
    if name.endswith("y") and name[-2:-1] not in "aeiou":
        return name[:-1] + "ies"
    if name.endswith(("s", "x", "ch", "sh")):
        return name + "es"
    return name + "s"
