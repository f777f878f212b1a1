"""The member provisioning list: who must be a Twenty workspace member before owners resolve.

Twenty creates members only by invitation, never through the records API, and matches owners
to members by ``userEmail`` (docs/twenty-contract.md §4.2). So before a load every distinct
owner/assignee e-mail of the source is listed with its name, its status in the source, the
records it owns, and whether it is a member already (``None``: the workspace could not be
seen); the e-mails still to invite go to a CSV the workspace admin works from.

Built from the mapper's ``_owner`` side stream (the source's users) and the owner links of the
records: by the mapper's source profile before any run, and by target-twenty's report.
"""

from __future__ import annotations

import csv
import enum
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

INVITE_FILE = "members-to-invite.csv"
INVITE_HEADER = ["email", "first_name", "last_name", "active_in_source", "records_owned"]


class Membership(str, enum.Enum):
    MEMBER = "member"  # a workspace member has this e-mail
    TO_INVITE = "to invite"  # the workspace was read and has no member with it
    UNKNOWN = "unknown"  # the workspace was not seen (no API key, no member list)


@dataclass(frozen=True)
class SourceMember:
    """One owner/assignee e-mail of the source."""

    email: str  # lower-cased, as owners match
    name: str | None  # from the source's user list
    active: bool | None  # the source's status (None: the source does not say)
    source_user: bool  # listed among the source's users (else only named by records)
    records_owned: int  # owner/assignee links of the records that name it
    membership: Membership


@dataclass
class MemberList:
    members: list[SourceMember] = field(default_factory=list)
    workspace_seen: bool = False  # whether membership is known
    invite_file: str | None = None  # the CSV of the e-mails to invite, once written

    @property
    def to_invite(self) -> list[SourceMember]:
        return [m for m in self.members if m.membership is not Membership.MEMBER]

    @property
    def inactive(self) -> list[SourceMember]:
        return [m for m in self.members if m.active is False]

    def summary(self) -> str:
        """One sentence for the report and the profile."""
        owned = sum(m.records_owned for m in self.inactive)
        inactive = (
            f"; {len(self.inactive)} inactive in the source, owning {owned} records"
            if self.inactive
            else ""
        )
        if not self.workspace_seen:
            state = "whether they are workspace members is unknown (the workspace was not read)"
        else:
            members = len(self.members) - len(self.to_invite)
            state = f"{members} are workspace members, {len(self.to_invite)} to invite"
        return f"{len(self.members)} owner/assignee e-mails: {state}{inactive}."


def user_active(user: Mapping[str, Any]) -> bool | None:
    """A source user's status from its ``_owner`` record: ``active``, else ``disabled``."""
    if isinstance(user.get("active"), bool):
        return bool(user["active"])
    if isinstance(user.get("disabled"), bool):
        return not user["disabled"]
    return None


def member_list(
    users: Iterable[Mapping[str, Any]],
    links: Iterable[tuple[str, int]],
    members: Collection[str] | None,
) -> MemberList:
    """The list from the source's users (``_owner`` records: ``email``, ``name``, ``active`` or
    ``disabled``), the owner links ((e-mail, how many records name it) pairs) and the workspace
    members' lower-cased e-mails (None: not known). Sorted: to invite first, then by e-mail."""
    owned: dict[str, int] = {}
    for email, n in links:
        if email:
            key = str(email).strip().lower()
            owned[key] = owned.get(key, 0) + n
    known: dict[str, Mapping[str, Any]] = {}
    for user in users:
        email = str(user.get("email") or "").strip().lower()
        if email:
            known.setdefault(email, user)
    seen = {m.lower() for m in members} if members is not None else None
    out = []
    for email in sorted(set(owned) | set(known)):
        found = known.get(email)
        if seen is None:
            state = Membership.UNKNOWN
        else:
            state = Membership.MEMBER if email in seen else Membership.TO_INVITE
        out.append(
            SourceMember(
                email=email,
                name=(str(found.get("name") or "").strip() or None) if found else None,
                active=user_active(found) if found else None,
                source_user=found is not None,
                records_owned=owned.get(email, 0),
                membership=state,
            )
        )
    out.sort(key=lambda m: (m.membership is Membership.MEMBER, m.email))
    return MemberList(out, seen is not None)


def write_invites(members: MemberList, folder: Path) -> Path:
    """The CSV of the e-mails to invite (Settings → Members in Twenty), active users first;
    the file's path is kept on ``members.invite_file``."""
    path = folder / INVITE_FILE
    rows = sorted(members.to_invite, key=lambda m: (m.active is False, m.email))
    with path.open("w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(INVITE_HEADER)
        for m in rows:
            first, _, last = (m.name or "").partition(" ")
            active = "" if m.active is None else ("yes" if m.active else "no")
            out.writerow([m.email, first, last, active, m.records_owned])
    members.invite_file = str(path)
    return path
