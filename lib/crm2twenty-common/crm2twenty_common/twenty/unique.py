"""When two values of a unique Twenty field are the same value: the key they share.

Used by target-twenty's duplicate checks and by the mapper's source profile (duplicate
candidates), so both compare as Twenty does.
"""

from __future__ import annotations

import re
from typing import Any

# The sub-field of a composite type that Twenty's unique constraint covers
# (docs/twenty-contract.md §4.1).
UNIQUE_SUBFIELDS = {
    "EMAILS": ("primaryEmail",),
    "LINKS": ("primaryLinkUrl",),
    "PHONES": ("primaryPhoneNumber", "primaryPhoneCountryCode", "primaryPhoneCallingCode"),
}

_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://")


def unique_key(kind: str, value: Any) -> str | None:
    """The text two records share when they clash on a unique field of type ``kind``.

    E-mails compare trimmed and case-insensitively (Twenty lower-cases them, PR #11042); links
    compare by host and path without scheme, ``www.`` or trailing slash, as the spreadsheet
    import does for company domains.
    """
    if value is None:
        return None
    if kind == "EMAILS":
        text = (value.get("primaryEmail") if isinstance(value, dict) else value) or ""
        return text.strip().lower() or None
    if kind == "LINKS":
        text = (
            ((value.get("primaryLinkUrl") if isinstance(value, dict) else value) or "")
            .strip()
            .lower()
        )
        text = _SCHEME.sub("", text)
        text = text[4:] if text.startswith("www.") else text
        return text.rstrip("/") or None
    if kind == "PHONES" and isinstance(value, dict):
        parts = [str(value.get(k) or "").strip() for k in UNIQUE_SUBFIELDS["PHONES"]]
        return "|".join(parts) if parts[0] else None
    text = str(value).strip()
    return text or None
