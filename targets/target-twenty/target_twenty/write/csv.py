"""CSV mode's writer: Twenty-importable spreadsheet files, and the leftovers only the API can load.

Files follow the v2.21 spreadsheet import (docs/twenty-contract.md §6): columns are matched by field
label, composite columns are ``<Field label> / <Sub-field label>``, relations are ``<label> / Id``
(owners ``<label> / User Email``), at most ``csv_max_rows`` rows per file, money in units, lists
as JSON. Note/task targets and attachments cannot be imported from a spreadsheet: they go to a
Singer file that API mode loads later (``target-twenty --input api-leftovers.singer``).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from crm2twenty_common.twenty import subfield_labels

from target_twenty.outcome import CsvFile, CsvOutputs, WriteOutcome
from target_twenty.plan import KEYWORD, FieldPlan, ObjectPlan
from target_twenty.spool import Spool
from target_twenty.values import ALWAYS_TOGETHER, FORMULA_START, csv_cell, neutralise
from target_twenty.write import WriteJob


@dataclass
class Column:
    header: str
    prop: str
    sub: str | None
    kind: str
    resolve: Callable[[Any], Any] | None = None
    money: bool = field(init=False)  # micros written as units: the text csv_cell changes

    def __post_init__(self) -> None:
        self.money = self.kind == "CURRENCY" and self.sub == "amountMicros"


@dataclass
class CsvResult:
    files: list[CsvFile]
    written: dict[str, int]
    leftovers: dict[str, int]
    leftovers_file: str | None
    neutralised: int
    label_clashes: list[str]


def columns_for(
    plan: ObjectPlan, owners: Callable[[Any], Any] | None, only: list[FieldPlan] | None = None
) -> list[Column]:
    cols = [Column("Id", "id", None, "UUID")]
    for fp in only if only is not None else plan.fields.values():
        if only is None and fp.deferred:
            continue
        if fp.kind == "RELATION":
            if fp.match == "userEmail":
                if owners is not None:
                    cols.append(Column(f"{fp.label} / User Email", fp.prop, None, "TEXT", owners))
                continue
            cols.append(Column(f"{fp.label} / Id", fp.prop, None, "UUID"))
            continue
        labels = subfield_labels(fp.kind)
        if labels:
            wanted = set(fp.subfields) | set(ALWAYS_TOGETHER.get(fp.kind, ()))
            for sub, sub_label in labels.items():
                if sub in wanted:
                    cols.append(Column(f"{fp.label} / {sub_label}", fp.prop, sub, fp.kind))
        else:
            cols.append(Column(fp.label, fp.prop, None, fp.kind))
    return cols


class CsvWriter:
    """The ``Writer`` for CSV mode."""

    def __init__(self, spool: Spool, run_dir: Path, max_rows: int) -> None:
        self.spool = spool
        self.dir = run_dir / "csv"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.max_rows = max_rows
        self.owners: Callable[[Any], Any] | None = None
        self.leftovers_path = run_dir / "api-leftovers.singer"
        self.neutralised = 0

    def write(self, job: WriteJob) -> WriteOutcome:
        # Without a member list, owner links cannot be in the spreadsheet: they go to leftovers.
        self.owners = job.owners.resolve if job.owners.members else None
        result = self._write(job.order.objects, job.plans, job.schemas)
        outcome = job.outcome(result.written)
        outcome.outputs = CsvOutputs(
            csv=result.files,
            leftovers=result.leftovers,
            leftovers_file=result.leftovers_file,
            neutralised=result.neutralised,
            label_clashes=result.label_clashes,
        )
        return outcome

    def _write(
        self, order: list[str], plans: dict[str, ObjectPlan], schemas: dict[str, dict]
    ) -> CsvResult:
        files: list[CsvFile] = []
        written: dict[str, int] = {}
        leftovers: dict[str, int] = {}
        index = 0
        with self.leftovers_path.open("w", encoding="utf-8") as lo:
            for name in order:
                plan = plans[name]
                if not plan.csv_importable:
                    written[name] = self._leftover_records(lo, plan, schemas[name])
                    if written[name]:
                        leftovers[name] = written[name]
                    continue
                index += 1
                cols = columns_for(plan, self.owners)
                owners = (
                    _OwnerLeftovers(lo, plan, schemas[name])
                    if self.owners is None and plan.owner_fields()
                    else None
                )
                written[name] = self._files(
                    files, index, plan, cols, f"{plan.plural}", None, owners
                )
                if owners is not None and owners.count:
                    leftovers[f"{name} owners"] = owners.count
            for name in order:  # second pass: relations that had to wait
                plan = plans[name]
                deferred = [fp for fp in plan.relations() if fp.deferred]
                if not deferred or not plan.csv_importable:
                    continue
                for fp in deferred:
                    index += 1
                    self._files(
                        files,
                        index,
                        plan,
                        columns_for(plan, None, [fp]),
                        f"{plan.plural}-{fp.name}",
                        fp.prop,
                    )
        if not leftovers:
            self.leftovers_path.unlink()
        clashes = [
            f"{p.name}: {h}"
            for p in plans.values()
            for h in _duplicates([c.header for c in columns_for(p, self.owners)])
        ]
        return CsvResult(
            files,
            written,
            leftovers,
            str(self.leftovers_path) if leftovers else None,
            self.neutralised,
            clashes,
        )

    def _rows(self, plan: ObjectPlan, needs: str | None) -> Iterator[dict]:
        return self.spool.pending_records(plan.name, needs)

    def _files(
        self,
        files: list[CsvFile],
        index: int,
        plan: ObjectPlan,
        cols: list[Column],
        stem: str,
        needs: str | None,
        owners: _OwnerLeftovers | None = None,
    ) -> int:
        count = 0
        part = 0
        handle = writer = None
        headers = [c.header for c in cols]
        for record in self._rows(plan, needs):
            if writer is None or count % self.max_rows == 0:
                if handle:
                    handle.close()
                part += 1
                path = self.dir / f"{index:02d}-{stem}-{part:03d}.csv"
                handle = path.open("w", encoding="utf-8", newline="")
                writer = csv.writer(handle)
                writer.writerow(headers)
                files.append(CsvFile(str(path), plan.name, 0, needs is not None))
            writer.writerow(self._cells(cols, record))
            if owners is not None:
                owners.add(record)
            files[-1].rows += 1
            count += 1
        if handle:
            handle.close()
        return count

    def _cells(self, cols: list[Column], record: dict) -> list[str]:
        """One row's cells: ``csv_cell`` then ``neutralise``, each called only for the values
        that need them (most cells are text passed through as it is)."""
        cells = []
        for col in cols:
            value = record.get(col.prop)
            if col.sub is not None:
                value = value.get(col.sub) if isinstance(value, dict) else None
            if col.resolve is not None:
                value = col.resolve(value)
            if value is None or value == "":
                cells.append("")
                continue
            text = (
                value
                if type(value) is str and not col.money
                else csv_cell(col.kind, col.sub, value)
            )
            if text and text[0] in FORMULA_START:
                text, changed = neutralise(text)
                self.neutralised += changed
            cells.append(text)
        return cells

    def _leftover_records(self, out, plan: ObjectPlan, schema: dict) -> int:
        out.write(
            json.dumps(
                {"type": "SCHEMA", "stream": plan.name, "schema": schema, "key_properties": ["id"]}
            )
            + "\n"
        )
        count = 0
        head = _record_line_head(plan.name)
        for record in self._rows(plan, None):
            out.write(head + _dumps(record) + "}\n")
            count += 1
        return count


class _OwnerLeftovers:
    """Owner links the spreadsheet could not carry (no member list): partial records that API
    mode applies as updates of the records the spreadsheet created. Fed by the pass that writes
    the object's files, so its records are read once."""

    def __init__(self, out: TextIO, plan: ObjectPlan, schema: dict) -> None:
        self.out = out
        self.props = [fp.prop for fp in plan.owner_fields()]
        self.stream = f"{plan.name}__owners"
        self.head = _record_line_head(self.stream)
        self.count = 0
        partial = {
            "type": "object",
            KEYWORD: {**schema.get(KEYWORD, {}), "object": plan.name, "partial": True},
            "properties": {p: schema["properties"][p] for p in ["id", *self.props]},
        }
        out.write(
            json.dumps(
                {
                    "type": "SCHEMA",
                    "stream": self.stream,
                    "schema": partial,
                    "key_properties": ["id"],
                }
            )
            + "\n"
        )

    def add(self, record: dict) -> None:
        values = {p: record[p] for p in self.props if record.get(p)}
        if values:
            self.out.write(self.head + _dumps({"id": record["id"], **values}) + "}\n")
            self.count += 1


def _encoder() -> Callable[[Any], str]:
    """``json.dumps`` with its default settings, from one encoder made once: ``json.dumps``
    makes a new one for each call, which was a third of the leftovers' cost. (Records read
    back from the spool hold no cycles: the encoder skips that check.)"""
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # a Python without the C encoder
        return json.dumps
    # markers, default, str encoder, indent, separators, sort_keys, skipkeys, allow_nan
    encode = make(
        None,
        json.JSONEncoder().default,
        json.encoder.encode_basestring_ascii,
        None,
        ": ",
        ", ",
        False,
        False,
        True,
    )
    return lambda record: "".join(encode(record, 0))


_dumps = _encoder()


def _record_line_head(stream: str) -> str:
    """The start of ``json.dumps({"type": "RECORD", "stream": stream, "record": record})``: the
    record's own JSON and ``}`` complete the line (the message around it is encoded once)."""
    return '{"type": "RECORD", "stream": ' + json.dumps(stream) + ', "record": '


def _duplicates(items: list[str]) -> list[str]:
    seen: set[str] = set()
    repeated = []
    for item in items:
        if item.lower() in seen:
            repeated.append(item)
        seen.add(item.lower())
    return repeated
