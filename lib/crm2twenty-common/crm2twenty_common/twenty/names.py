"""Twenty's naming rules: object and field names, singular ↔ plural, labels, option values.

Used wherever a Twenty name is made from source data: the mapper naming custom objects and fields,
target-twenty naming a plain Singer stream's object and the fields of its columns.

Facts (docs/twenty-contract.md, measured on a v2.21.0 server; captured metadata in
tests/fakes/twenty_contract/metadata-objects.json):
- object and field names match ``^[a-z][a-zA-Z0-9]*$``, at most 63 characters;
- SELECT option values match ``^[A-Z][A-Z0-9_]*$`` (stricter than the docs' pattern);
- some names are reserved; Twenty itself appends ``Custom`` to a reserved name
  (twenty-shared ``RESERVED_METADATA_NAME_KEYWORDS`` / ``addCustomSuffixIfIsReserved``);
- Twenty takes ``namePlural`` and both labels from the client, it does not derive them: the
  plurals here are plain English on the last word of a camelCase name, which reproduces every
  standard object's ``namePlural`` (``person`` → ``people``, ``timelineActivity`` →
  ``timelineActivities``).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

MAX_NAME_LENGTH = 63
NAME_PATTERN = re.compile(r"^[a-z][a-zA-Z0-9]*$")
OPTION_VALUE_PATTERN = re.compile(r"^[A-Z][A-Z0-9_]*$")

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
RESERVED_SUFFIX = "Custom"

_WORDS = re.compile(r"[A-Za-z0-9]+")
_CAMEL_SPLIT = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")

# English plurals Twenty's standard objects and CRM exports need that no suffix rule gives.
# (inflect knows more, but its singular_noun() mangles words that are already singular —
# "bus" → "bu", "analysis" → "analysi" — and stream names often are; it also costs about 1 ms a
# call through typeguard.)
_IRREGULAR = {"person": "people", "child": "children"}
_IRREGULAR_SINGULAR = {v: k for k, v in _IRREGULAR.items()}
# Words ending in "s" that are singular ("status", "address", "analysis", "alias", "news").
_INVARIANT = ("news", "series", "species")
_SINGULAR_S = ("ss", "us", "is", "ias", *_INVARIANT)


def is_valid_name(name: str) -> bool:
    """Whether Twenty accepts ``name`` as an object or field name (reserved names refused)."""
    return (
        bool(NAME_PATTERN.match(name))
        and len(name) <= MAX_NAME_LENGTH
        and name not in RESERVED_NAMES
    )


def _ascii(text: str) -> str:
    """``"Négociation"`` → ``"Negociation"``: accents folded, other non-ASCII letters dropped."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def _words(text: str) -> list[str]:
    parts: list[str] = []
    for word in _WORDS.findall(_ascii(text)):
        parts.extend(_CAMEL_SPLIT.split(word))
    return [p for p in parts if p]


def camel_case(text: str, *, prefix: str = "field") -> str:
    """A valid Twenty object/field name for ``text`` (``"Favourite Colour"`` → ``favouriteColour``).

    Accents are folded and other non-ASCII letters dropped; a name that would start with a digit
    or be empty gets ``prefix`` in front; reserved names get Twenty's own ``Custom`` suffix.
    """
    words = _words(text)
    if not words:
        words = [prefix, hashlib.sha1(text.encode()).hexdigest()[:6]]
    name = words[0].lower() + "".join(w[:1].upper() + w[1:].lower() for w in words[1:])
    if not name[0].isalpha():
        name = prefix + name[:1].upper() + name[1:]
    name = name[:MAX_NAME_LENGTH]
    if name in RESERVED_NAMES:
        name = f"{name}{RESERVED_SUFFIX}"
    return name


RAW_SUFFIX = "Raw"
RAW_LABEL_SUFFIX = " (as in source)"


def raw_field_name(name: str) -> str:
    """The TEXT field that keeps, verbatim, a value of field ``name`` Twenty would refuse (a
    phone that does not parse, an e-mail that is not one): ``phones`` → ``phonesRaw``. One
    naming for the mapper, target-twenty's intake and its write-time retry."""
    return name[: MAX_NAME_LENGTH - len(RAW_SUFFIX)] + RAW_SUFFIX


def raw_field_label(label: str) -> str:
    """The label of :func:`raw_field_name`'s field: ``Phones`` → ``Phones (as in source)``."""
    return label + RAW_LABEL_SUFFIX


def label_case(text: str) -> str:
    """A human label from a column or field name: ``favourite_colour`` → ``Favourite Colour``,
    ``taskTarget`` → ``Task Target``."""
    words = [
        p
        for w in re.findall(r"\w+", text)
        for p in _CAMEL_SPLIT.split(w.replace("_", " "))
        for p in p.split()
    ]
    return " ".join(w[:1].upper() + w[1:] for w in words) or text


def object_labels(name: str) -> tuple[str, str]:
    """``labelSingular`` and ``labelPlural`` for an object named ``name`` (``supportCase`` →
    ``("Support Case", "Support Cases")``)."""
    return label_case(name), label_case(plural(name))


def _last_word(name: str) -> tuple[str, str]:
    """``"timelineActivity"`` → ``("timeline", "Activity")``; ``"pipeline_stages"`` →
    ``("pipeline_", "stages")``: inflection applies to the last word only."""
    match = re.search(r"[A-Z]?[a-z0-9]*$", name)
    start = match.start() if match and match.group() else 0
    return name[:start], name[start:]


def _with_case(word: str, like: str) -> str:
    return word[:1].upper() + word[1:] if like[:1].isupper() else word


def plural(name: str) -> str:
    """The plural of an object name: ``company`` → ``companies``, ``person`` → ``people``,
    ``address`` → ``addresses``, ``taskTarget`` → ``taskTargets``."""
    head, word = _last_word(name)
    lower = word.lower()
    if lower in _IRREGULAR:
        return head + _with_case(_IRREGULAR[lower], word)
    if lower in _IRREGULAR_SINGULAR or lower.endswith(_INVARIANT):
        return name
    if name.endswith("y") and name[-2:-1] not in ("a", "e", "i", "o", "u", ""):
        return name[:-1] + "ies"
    if name.endswith(("s", "x", "ch", "sh")):
        return name + "es"
    return name + "s"


def singular(name: str) -> str:
    """The singular of a (stream or object) name; a name already singular stays as it is:
    ``companies`` → ``company``, ``people`` → ``person``, ``addresses`` → ``address``,
    ``cases`` → ``case``, ``status`` → ``status``."""
    head, word = _last_word(name)
    lower = word.lower()
    if lower in _IRREGULAR_SINGULAR:
        return head + _with_case(_IRREGULAR_SINGULAR[lower], word)
    if len(lower) < 3 or lower in _IRREGULAR or lower.endswith(_SINGULAR_S):
        return name
    if not name.endswith("s"):
        return name
    if name.endswith("ies") and len(lower) > 3:
        return name[:-3] + "y"
    # -es after s, x, ch, sh (classes, boxes, branches); of the other -ses words, consonant +
    # -uses and -iases drop the "es" (statuses, bonuses, aliases), the rest only the "s"
    # (cases, phases, houses, courses).
    if name.endswith(("sses", "xes", "ches", "shes", "iases")) or (
        lower.endswith("uses") and len(lower) > 4 and lower[-5] not in "aeiou"
    ):
        return name[:-2]
    return name[:-1]


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
