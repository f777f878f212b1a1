"""``crm2twenty-propose``: read a tap's output and propose the rules for it, with a mapping sheet.

    meltano invoke tap-allegory-csv | meltano invoke crm2twenty-mapper:propose
    tap-allegory-csv --config c.json | crm2twenty-propose --rules allegory --out proposal/

It reads the SCHEMA messages (the tap's catalog) and the records (the first 1,000 of each stream
as the sample, and every key), and writes into ``--out``:

- ``<source>-rules.yml``: the built-in rules of the source plus exactly what this data needs, a
  rules file the mapper accepts (checked against rules-schema.json before it is written); edit
  it and set it as the mapper's ``rules``;
- ``<source>-mapping-sheet.csv`` and ``.html``: every column → Twenty field with samples before
  → after, evidence and confidence, and the list of what needs a decision.

A run without a confirmed rules file decides the same things from the same evidence
(deferred.py), so the rules file reproduces that run.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import msgspec
import yaml

from crm2twenty_mapper import rules as rules_mod
from crm2twenty_mapper import sheet as sheet_mod
from crm2twenty_mapper.proposal import Proposer, plain
from crm2twenty_mapper.sampling import SAMPLE_ROWS, Sampler

_HEADER = """\
# Proposed by crm2twenty-propose from {streams} streams of {source} data ({rows} rows read),
# on {base}: the built-in rules plus what this data needs (see the mapping sheet beside
# this file for the evidence, and what needs a decision). Edit it, then set it as the
# mapper's `rules` (meltano config set crm2twenty-mapper rules <this file>).
"""


class _Message(msgspec.Struct):
    type: str
    stream: str = ""
    schema: dict = {}
    record: dict = {}
    key_properties: list[str] = []


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="crm2twenty-propose",
        description="Propose mapper rules and a mapping sheet from a tap's Singer output.",
    )
    parser.add_argument(
        "--rules",
        help="the rules to start from: a built-in name or a file (default: the extractor's, "
        "from MELTANO_EXTRACTOR_NAME, else the built-in rules naming most of the input's streams)",
    )
    parser.add_argument(
        "--out", default="proposal", help="folder to write into (default: proposal)"
    )
    parser.add_argument(
        "--sample-rows",
        type=int,
        default=SAMPLE_ROWS,
        help=f"rows of each stream inference reads (default {SAMPLE_ROWS}, as a run does)",
    )
    add_input_arguments(parser)
    args = parser.parse_args(argv)
    try:
        with singer_input(args) as handle:
            messages = _read(handle)
        paths = propose(messages, args.rules, Path(args.out), rule_options(args), args.sample_rows)
    except (rules_mod.RulesError, OSError, msgspec.DecodeError) as exc:
        print(f"crm2twenty-propose: {exc}", file=sys.stderr)
        return 1
    for path in paths:
        print(path)
    return 0


def add_input_arguments(parser: argparse.ArgumentParser) -> None:
    """``--input`` and ``--option``, as crm2twenty-propose and crm2twenty-profile take them."""
    parser.add_argument("--input", help="a file of Singer messages (default: standard input)")
    parser.add_argument(
        "--option",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a rules option (the mapper's rule_options), e.g. cases_as=supportCase",
    )


def rule_options(args: argparse.Namespace) -> dict[str, str] | None:
    """The ``--option NAME=VALUE`` pairs, as the mapper's rule_options."""
    return dict(o.split("=", 1) for o in args.option) or None


@contextmanager
def singer_input(args: argparse.Namespace) -> Iterator[IO[bytes]]:
    """The Singer messages to read: the ``--input`` file, else standard input."""
    if not args.input:
        yield sys.stdin.buffer
        return
    with open(args.input, "rb") as handle:
        yield handle


def _read(handle: IO[bytes]) -> list[_Message]:
    return list(messages(handle))


def messages(handle: Iterable[bytes]) -> Iterator[_Message]:
    """The Singer messages of ``handle``, one a line; a bad line is named by its number."""
    decode = msgspec.json.Decoder(_Message).decode
    for number, line in enumerate(handle, 1):
        if not line.strip():
            continue
        try:
            yield decode(line)
        except msgspec.DecodeError as exc:
            raise msgspec.DecodeError(
                f"input line {number}: not a Singer message ({exc})"
            ) from None


def choose_rules(ref: str | None, streams: set[str]) -> str:
    if ref:
        return ref
    try:
        return rules_mod.choose(
            None,
            os.environ.get("MELTANO_EXTRACTOR_NAME"),
            os.environ.get("MELTANO_EXTRACTOR_NAMESPACE"),
        )
    except rules_mod.RulesError:
        pass
    overlap = {
        name: len(streams & set(rules_mod.load_data(name)[1].get("streams") or {}))
        for name in rules_mod.builtin_names()
    }
    most = max(overlap.values())
    best = [n for n, count in overlap.items() if count == most]
    if not most or len(best) > 1:
        raise rules_mod.RulesError(
            "which source is this? give --rules (one of "
            f"{', '.join(best if most else rules_mod.builtin_names())})"
        )
    print(f"{Path(sys.argv[0]).name}: starting from the built-in rules {best[0]}", file=sys.stderr)
    return best[0]


def propose(
    messages: list[Any],
    ref: str | None,
    out: Path,
    options: dict[str, Any] | None = None,
    sample_rows: int = SAMPLE_ROWS,
) -> list[Path]:
    """Write the rules file and the mapping sheet; return their paths."""
    chosen = choose_rules(ref, {m.stream for m in messages if m.type == "SCHEMA"})
    where, data = rules_mod.load_data(chosen)
    base = rules_mod.parse(data, where, options)
    sampler = Sampler(base, sample_rows)
    for m in messages:
        if m.type == "SCHEMA":
            sampler.on_schema(m.stream, m.schema, m.key_properties)
        elif m.type == "RECORD":
            sampler.on_record(m.stream, m.record)
    proposer = Proposer(data, where, sampler.streams, options)
    for stream in sampler.streams:
        proposer.decide(stream)
    out.mkdir(parents=True, exist_ok=True)
    source = base.source
    rules_path = out / f"{source}-rules.yml"
    text = _HEADER.format(
        streams=len(sampler.streams),
        source=base.label,
        rows=sum(s.read for s in sampler.streams.values()),
        base=where,
    ) + yaml.safe_dump(plain(proposer.data), sort_keys=False, allow_unicode=True, width=100)
    proposed = rules_mod.parse(yaml.safe_load(text), str(rules_path), options)  # it must load
    rules_path.write_text(text, encoding="utf-8")
    sheet = sheet_mod.build(proposer, proposed, str(rules_path))
    csv_path = out / f"{source}-mapping-sheet.csv"
    html_path = out / f"{source}-mapping-sheet.html"
    sheet_mod.write_csv(sheet, csv_path)
    sheet_mod.write_html(sheet, html_path)
    return [rules_path, csv_path, html_path]


if __name__ == "__main__":
    sys.exit(main())
