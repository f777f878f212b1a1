"""The owners stage: source owner e-mails → workspace members.

Members are never created: an owner who is not one gets the fallback member (or none) and is
listed as an orphan in the report. CSV mode knows the members from the ``workspace_members``
setting and writes e-mails (Twenty's import matches them); API mode reads them from the
workspace and writes member ids.
"""

from __future__ import annotations

from typing import Any

from target_twenty.api.client import TwentyClient


class Owners:
    """Source owner e-mails → workspace members, case-insensitively; members are never
    created, so an owner who is not one gets the fallback member (or none) and is listed."""

    def __init__(self, members: dict[str, str], fallback: str | None, by_value: bool) -> None:
        self.members = members  # lower-cased e-mail → what to write (e-mail or member id)
        self.fallback = fallback
        self.by_value = by_value  # CSV: an unknown fallback e-mail is still written as is
        self.orphans: set[str] = set()

    def resolve(self, email: Any) -> Any:
        if not email:
            return None
        hit = self.members.get(str(email).lower())
        if hit:
            return hit
        self.orphans.add(str(email).lower())
        if not self.fallback:
            return None
        return self.members.get(self.fallback.lower(), self.fallback if self.by_value else None)


def fetch_members(client: TwentyClient) -> dict[str, str]:
    """Workspace members by lower-cased ``userEmail`` (names can be empty: match the e-mail)."""
    return {
        str(m.get("userEmail") or "").lower(): m["id"]
        for m in client.records("workspaceMembers")
        if m.get("userEmail")
    }


def workspace_owners(config: dict[str, Any], client: TwentyClient | None) -> Owners:
    """The stage's entry point: the members to match owners against (``client`` in API mode)."""
    fallback = config.get("fallback_owner_email")
    if client is not None:
        return Owners(fetch_members(client), fallback, by_value=False)
    members = {str(e).lower(): str(e) for e in config.get("workspace_members") or []}
    return Owners(members, fallback, by_value=True)
