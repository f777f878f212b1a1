"""The owners stage: source owner e-mails → workspace members.

Members are never created: an owner who is not one gets the fallback member (or none) and is
listed as an orphan in the report. CSV mode knows the members from the ``workspace_members``
setting and writes e-mails (Twenty's import matches them); API mode reads them from the
workspace and writes member ids.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from target_twenty.api.client import TwentyClient
from target_twenty.outcome import OwnerMatching


class Owners:
    """Source owner e-mails → workspace members, case-insensitively; members are never
    created, so an owner who is not one gets the fallback member (or none) and is listed."""

    def __init__(self, members: dict[str, str], fallback: str | None, by_value: bool) -> None:
        self.members = members  # lower-cased e-mail → what to write (e-mail or member id)
        self.fallback = fallback
        self.by_value = by_value  # CSV: an unknown fallback e-mail is still written as is
        self.orphans: set[str] = set()

    def resolve(self, email: Any) -> Any:
        """What to write for this owner e-mail (an orphan is listed)."""
        if email and str(email).lower() not in self.members:
            self.orphans.add(str(email).lower())
        return self.member_for(email)

    def member_for(self, email: Any) -> Any:
        """What to write for this owner e-mail: its member, else the fallback, else None."""
        if not email:
            return None
        hit = self.members.get(str(email).lower())
        if hit:
            return hit
        if not self.fallback:
            return None
        return self.members.get(self.fallback.lower(), self.fallback if self.by_value else None)

    def match_all(self, links: Iterable[tuple[str, int]]) -> OwnerMatching:
        """Count, over every owner link of the run's records ((e-mail, links) pairs), what
        the matching makes of it, whether or not the links were written (a dry run too)."""
        out = OwnerMatching(links=0, matched=0, fallback=0, unowned=0)
        for email, n in links:
            out.links += n
            if str(email).lower() in self.members:
                out.matched += n
                continue
            self.orphans.add(str(email).lower())
            if self.member_for(email) is None:
                out.unowned += n
            else:
                out.fallback += n
        return out


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
