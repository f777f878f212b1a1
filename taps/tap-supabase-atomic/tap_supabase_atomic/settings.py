"""Atomic CRM's configuration that Twenty has no counterpart for, as an inventory for the report.

Atomic's app reads these keys of its configuration (stored in the `configuration` table, merged
over its defaults key by key: docs/sources.md §2.6, §2.7): the app's title and its two logos,
the deal stages its pipeline counts as closed, and how people sign in. None of them is data a
Twenty record holds; the report lists each with its value, so they can be rebuilt by hand
(Twenty's workspace name and logo, its own sign-in settings) or knowingly left behind.
"""

from __future__ import annotations

import json
import typing as t

from crm2twenty_common.twenty import InventoryItem

SECTION = "Atomic CRM configuration with no Twenty counterpart"
# key → (what it is, Atomic's default: None when it has none)
SETTINGS: dict[str, tuple[str, t.Any]] = {
    "title": ("the app's title", "Atomic CRM"),
    "lightModeLogo": ("the logo in light mode", "./logos/logo_atomic_crm_light.svg"),
    "darkModeLogo": ("the logo in dark mode", "./logos/logo_atomic_crm_dark.svg"),
    "dealPipelineStatuses": ("deal stages the pipeline counts as closed", ["won"]),
    "googleWorkplaceDomain": ("the Google Workspace domain allowed to sign in", None),
    "disableEmailPasswordAuthentication": ("e-mail and password sign-in turned off", None),
}


def inventory(config: dict, source: str) -> list[InventoryItem]:
    """One item per setting the install has: its stored value, else Atomic's default."""
    out = []
    for key, (what, default) in SETTINGS.items():
        stored = key in config and config[key] not in (None, "", [])
        value = config[key] if stored else default
        if value is None:
            continue
        text = value if isinstance(value, str) else json.dumps(value)
        out.append(
            InventoryItem(
                source,
                SECTION,
                key,
                {
                    "what": what,
                    "value": text,
                    "from": "the configuration table" if stored else "Atomic CRM's default",
                },
            )
        )
    return out
