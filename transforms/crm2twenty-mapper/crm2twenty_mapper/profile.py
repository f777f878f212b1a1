"""``crm2twenty-profile``: the source profile that scopes a migration, from a tap's output.

    meltano invoke tap-allegory-csv | meltano invoke crm2twenty-mapper:profile
    tap-allegory-csv --config c.json | crm2twenty-profile --out profile/

No Twenty server is needed. It writes into ``<out>/<source>/``:

- ``profile.json`` and ``profile.html``: per stream the record count; per column the fill
  rate, distinct count, the kind of its values and the share that parse as it; duplicate
  candidates; values Twenty would refuse; rows that will not move; the API cost of the load at
  the batch size and rate limit target-twenty would use (profiling.py);
- ``members-to-invite.csv``: the owner/assignee e-mails to invite as workspace members
  (crm2twenty_common.members).

The rules are chosen as the proposal chooses them (propose.py); without a confirmed rules file
the data goes through the same inference a run makes (deferred.py).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from typing import IO

import msgspec
from crm2twenty_common.members import Membership, write_invites
from crm2twenty_common.twenty.load import MAX_BATCH, default_rate

from crm2twenty_mapper import rules as rules_mod
from crm2twenty_mapper.deferred import InferringRun
from crm2twenty_mapper.pages import PAGES
from crm2twenty_mapper.profile_model import SourceProfile
from crm2twenty_mapper.profiling import Profiler
from crm2twenty_mapper.propose import (
    add_input_arguments,
    choose_rules,
    messages,
    rule_options,
    singer_input,
)
from crm2twenty_mapper.runtime import Runtime


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="crm2twenty-profile",
        description="Profile a tap's Singer output: counts, fill rates, types, duplicates, "
        "refused values, API cost, and the members to invite. No Twenty server needed.",
    )
    parser.add_argument(
        "--rules",
        help="a built-in name or a confirmed rules file (default: as crm2twenty-propose chooses)",
    )
    parser.add_argument(
        "--out",
        default="profile",
        help="folder to write <source>/profile.* into (default: profile)",
    )
    parser.add_argument(
        "--batch-size",
        type=int,
        default=int(os.environ.get("TARGET_TWENTY_BATCH_SIZE") or MAX_BATCH),
        help=f"records per API request (default: target-twenty's batch_size, else {MAX_BATCH})",
    )
    parser.add_argument(
        "--requests-per-minute",
        type=int,
        default=None,
        help="the rate limit to price the load at (default: target-twenty's "
        "requests_per_minute, else Twenty's default for --api-url)",
    )
    parser.add_argument(
        "--api-url",
        default=os.environ.get("TARGET_TWENTY_API_URL"),
        help="the Twenty server the load will go to (only its default rate limit is used)",
    )
    parser.add_argument(
        "--workspace-members",
        default=os.environ.get("TARGET_TWENTY_WORKSPACE_MEMBERS"),
        help="the workspace members' e-mails (a JSON list or comma-separated), as target-twenty's "
        "workspace_members; without it, membership is listed as unknown",
    )
    add_input_arguments(parser)
    args = parser.parse_args(argv)
    try:
        with singer_input(args) as handle:
            paths = run(handle, args, rule_options(args))
    except (rules_mod.RulesError, OSError, msgspec.DecodeError, ValueError) as exc:
        print(f"crm2twenty-profile: {exc}", file=sys.stderr)
        return 1
    for path in paths:
        print(path)
    return 0


def _rate(args: argparse.Namespace) -> tuple[int, str]:
    if args.requests_per_minute:
        return args.requests_per_minute, "--requests-per-minute"
    env = os.environ.get("TARGET_TWENTY_REQUESTS_PER_MINUTE")
    if env:
        return int(env), "target-twenty's requests_per_minute"
    if args.api_url:
        return default_rate(args.api_url), f"target-twenty's default for {args.api_url}"
    return default_rate(None), "target-twenty's default for a self-hosted server"


def _members(text: str | None) -> list[str] | None:
    if not text:
        return None
    text = text.strip()
    if text.startswith("["):
        return [str(e) for e in msgspec.json.decode(text)]
    return [e.strip() for e in text.split(",") if e.strip()]


def run(handle: IO[bytes], args: argparse.Namespace, options: dict | None) -> list[Path]:
    """Profile the messages on ``handle``; write the files; return their paths."""
    # The rules are chosen from every stream of the input, as the proposal chooses them:
    # the messages are spooled to a temporary file on the way (the profile reads them once).
    with tempfile.TemporaryFile() as spool:
        streams: set[str] = set()
        for line in handle:
            spool.write(line)
            if b'"SCHEMA"' in line:
                for m in messages([line]):
                    if m.type == "SCHEMA":
                        streams.add(m.stream)
        chosen = choose_rules(args.rules, streams)
        where, data = rules_mod.load_data(chosen)
        confirmed = args.rules is not None and Path(args.rules).is_file()
        engine: InferringRun | Runtime
        if confirmed:
            engine = Runtime(rules_mod.parse(data, where, options), "profile")
        else:
            engine = InferringRun(data, where, options, "profile")
        profiler = Profiler(engine)
        spool.seek(0)
        for number, m in enumerate(messages(spool), 1):
            if m.type == "SCHEMA":
                profiler.on_schema(m.stream, m.schema, m.key_properties)
            elif m.type == "RECORD":
                profiler.on_record(m.stream, m.record, number)
    profiler.end()
    rpm, rate_source = _rate(args)
    profile = profiler.profile(args.batch_size, rpm, rate_source, _members(args.workspace_members))
    return write(profile, Path(args.out) / profiler.runtime.rules.source)


def write(profile: SourceProfile, folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    invites = write_invites(profile.members, folder)
    json_path = folder / "profile.json"
    json_path.write_text(profile.to_json(), encoding="utf-8")
    html_path = folder / "profile.html"
    html = PAGES.get_template("profile.html.j2").render(
        p=profile, invite_name=invites.name, MEMBER=Membership.MEMBER
    )
    html_path.write_text(html, encoding="utf-8")
    return [json_path, html_path, invites]


if __name__ == "__main__":
    sys.exit(main())
