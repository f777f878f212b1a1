"""The reconciliation report (JSON and Markdown) and the files beside it.

Per Twenty object: received = written + merged + rejected. Per source stream: read = written +
merged + rejected + ignored, where a source row's fate is its primary record's fate, or the
tap's or mapper's reject. ``balanced`` says whether every count adds up.
"""

from __future__ import annotations

import csv
import json
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from target_twenty.plan import BOOKKEEPING
from target_twenty.spool import Spool

REJECT_COLUMNS = ["stage", "source_stream", "source_key", "object", "id", "location", "reason"]
REPAIR_COLUMNS = [
    "stage",
    "source_stream",
    "source_key",
    "object",
    "id",
    "location",
    "field",
    "value",
    "reason",
]


def write_rejects_and_repairs(spool: Spool, run_dir: Path) -> tuple[Path, Path, int, int]:
    rejects_path, repairs_path = run_dir / "rejects.csv", run_dir / "repairs.csv"
    rejects = repairs = 0
    with (
        rejects_path.open("w", encoding="utf-8", newline="") as rj,
        repairs_path.open("w", encoding="utf-8", newline="") as rp,
    ):
        rjw, rpw = csv.writer(rj), csv.writer(rp)
        rjw.writerow(REJECT_COLUMNS)
        rpw.writerow(REPAIR_COLUMNS)
        for rec in spool.side("_rejects"):
            rjw.writerow(
                [
                    rec.get("stage"),
                    rec.get("source_stream"),
                    rec.get("source_key"),
                    rec.get("object"),
                    None,
                    rec.get("location"),
                    rec.get("reason"),
                ]
            )
            rejects += 1
        for rec in spool.side("_repairs"):
            rpw.writerow(
                [
                    rec.get("stage"),
                    rec.get("source_stream"),
                    rec.get("source_key"),
                    rec.get("object"),
                    None,
                    None,
                    rec.get("field"),
                    rec.get("value"),
                    rec.get("reason"),
                ]
            )
            repairs += 1
        for kind, obj, rid, stream, skey, loc, fld, value, reason in spool.db.execute(
            "SELECT kind, object, id, stream, skey, location, field, value, reason "
            "FROM problems ORDER BY seq"
        ):
            if kind == "reject":
                rjw.writerow(["target", stream, skey, obj, rid, loc, reason])
                rejects += 1
            else:
                rpw.writerow(["target", stream, skey, obj, rid, loc, fld, value, reason])
                repairs += 1
    return rejects_path, repairs_path, rejects, repairs


def object_counts(spool: Spool, written: dict[str, int]) -> list[dict[str, Any]]:
    rows = []
    for obj, received, merged, rejected, skipped in spool.db.execute(
        "SELECT object, COUNT(*), SUM(status='merged'), SUM(status='rejected'), "
        "SUM(status='skipped') FROM records GROUP BY object ORDER BY object"
    ):
        wrote = written.get(obj, 0)
        row = {
            "object": obj,
            "received": received,
            "written": wrote,
            "merged": merged or 0,
            "rejected": rejected or 0,
        }
        if skipped:  # a sample run leaves the rest for the full run
            row["skipped"] = skipped
        row["balanced"] = received == wrote + (merged or 0) + (rejected or 0) + (skipped or 0)
        rows.append(row)
    return rows


def source_counts(spool: Spool, written_objects: set[str]) -> list[dict[str, Any]]:
    """Per source stream, from the mapper's _summary and each primary record's fate."""
    fates: dict[str, Counter] = defaultdict(Counter)
    for stream, obj, status, n in spool.db.execute(
        "SELECT stream, object, status, COUNT(*) FROM records WHERE is_primary=1 AND "
        "stream IS NOT NULL GROUP BY stream, object, status"
    ):
        fate = status or ("written" if obj in written_objects else "unwritten")
        fates[stream][fate] += n
    kept_out = [
        s for (s,) in spool.db.execute("SELECT DISTINCT stream FROM side") if s not in BOOKKEEPING
    ]
    for side in kept_out:  # rows the rules turned into report data (owners, workflows …)
        for rec in spool.side(side):
            prov = rec.get("_crm2twenty") or {}
            if prov.get("primary", True) and prov.get("stream"):
                fates[prov["stream"]]["written"] += 1
    upstream: dict[str, Counter] = defaultdict(Counter)
    for rec in spool.side("_rejects"):
        upstream[rec.get("source_stream") or "?"][f"rejected_by_{rec.get('stage', 'tap')}"] += 1
    summaries = {rec["stream"]: rec for rec in spool.side("_summary")}
    rows = []
    for stream in sorted(set(fates) | set(summaries) | set(upstream)):
        summary = summaries.get(stream, {})
        f, u = fates[stream], upstream[stream]
        primary = sum(f.values())
        read = summary.get("read", primary + u["rejected_by_tap"] + u["rejected_by_mapper"])
        row = {
            "stream": stream,
            "read": read,
            "rejected_by_tap": u["rejected_by_tap"],
            "rejected_by_mapper": u["rejected_by_mapper"],
            "ignored": summary.get("ignored", 0),
            "ignored_because": summary.get("ignored_because"),
            "written": f["written"],
            "merged": f["merged"],
            "rejected_by_target": f["rejected"],
        }
        if f["skipped"]:
            row["skipped"] = f["skipped"]
        if summary and summary.get("mapped") != primary:
            row["lost_in_transit"] = summary.get("mapped", 0) - primary
        rejected = row["rejected_by_tap"] + row["rejected_by_mapper"] + row["rejected_by_target"]
        row["rejected"] = rejected
        row["balanced"] = read == (
            row["written"] + row["merged"] + rejected + row["ignored"] + f["skipped"]
        )
        rows.append(row)
    return rows


def markdown(report: dict[str, Any]) -> str:
    out: list[str] = []
    add = out.append
    add(f"# Migration report — {report['migration']}")
    add("")
    add(
        f"Run `{report['run_id']}`, mode **{report['mode']}**, workspace metadata: "
        f"{report['workspace']}."
    )
    add("")
    add(
        "**All counts add up.**"
        if report["balanced"]
        else "**Some counts do not add up — see the rows marked ✗.**"
    )
    add("")
    if report.get("notices"):
        add("## Notices from the source")
        add("")
        for notice in report["notices"]:
            add(f"- {notice}")
        add("")
    add("## Source records")
    add("")
    add("| stream | read | written | merged | rejected (tap / mapper / target) | ignored | ok |")
    add("|---|---:|---:|---:|---|---:|:-:|")
    for r in report["sources"]:
        add(
            f"| {r['stream']} | {r['read']} | {r['written']} | {r['merged']} | {r['rejected']} "
            f"({r['rejected_by_tap']} / {r['rejected_by_mapper']} / {r['rejected_by_target']}) | "
            f"{r['ignored']} | {'✓' if r['balanced'] else '✗'} |"
        )
    add("")
    left_out = [r for r in report["sources"] if r["ignored"]]
    if left_out:
        add("Ignored on purpose, by the mapping rules:")
        add("")
        for r in left_out:
            why = r.get("ignored_because") or "no reason given"
            add(f"- {r['stream']} ({r['ignored']}): {why}")
        add("")
    add("## Twenty objects, in load order")
    add("")
    add("| # | object | received | written | merged | rejected | ok |")
    add("|---:|---|---:|---:|---:|---:|:-:|")
    position = {name: i + 1 for i, name in enumerate(report["order"])}
    for r in sorted(report["objects"], key=lambda r: position.get(r["object"], 999)):
        add(
            f"| {position.get(r['object'], '')} | {r['object']} | {r['received']} | "
            f"{r['written']} |"
            f" {r['merged']} | {r['rejected']} | {'✓' if r['balanced'] else '✗'} |"
        )
    add("")
    if report.get("deferred"):
        add(
            "Relations written in a second pass (self-references and cycles): "
            + ", ".join(f"`{o}.{p}`" for o, p in report["deferred"])
            + "."
        )
        add("")
    for cycle in report.get("object_cycles", []):
        add(f"- Object cycle: {' → '.join(cycle + cycle[:1])}")
    for cycle in report.get("record_cycles", []):
        add(
            f"- Record cycle on `{cycle['object']}.{cycle['field']}`: "
            f"{' → '.join(cycle['records'])}; the link from {cycle['dropped_from']} was dropped."
        )
    outputs = report.get("outputs", {})
    if outputs.get("csv"):
        add("## Files to import, in this order")
        add("")
        add("| file | object | rows |")
        add("|---|---|---:|")
        for f in outputs["csv"]:
            add(
                f"| `{Path(f['file']).name}`{' (second pass)' if f['second_pass'] else ''} | "
                f"{f['object']} | {f['rows']} |"
            )
        add("")
        if outputs.get("leftovers_file"):
            add(
                "What a spreadsheet import cannot carry — "
                + ", ".join(f"{k} ({v})" for k, v in outputs["leftovers"].items())
                + f" — is in `{Path(outputs['leftovers_file']).name}`: after importing the files "
                "above, load it with API mode: `target-twenty --config <api config> --input "
                f"{outputs['leftovers_file']}`."
            )
            add("")
        if outputs.get("neutralised"):
            add(
                f"{outputs['neutralised']} cells that began with `=`, `+`, `-`, `@`, tab or CR "
                "were prefixed with `'` so that spreadsheets do not run them as formulas."
            )
            add("")
    prov = report.get("provisioning", {})
    if any(prov.get(k) for k in ("objects", "fields", "options")):
        add("## Provisioning: what the workspace needs first")
        add("")
        if report["mode"] == "csv":
            add(
                "Create these in Twenty (Settings → Data model) before importing, or let API mode "
                "create them: they are what the records need that this workspace lacks."
            )
            add("")
        for o in prov.get("objects", []):
            add(
                f"- custom object `{o['nameSingular']}` ({o['labelSingular']} / {o['labelPlural']})"
            )
        for f in prov.get("fields", []):
            extra = f" → {f['relationTarget']}" if "relationTarget" in f else ""
            opts = (
                (" options " + ", ".join(o["value"] for o in f["options"]))
                if f.get("options")
                else ""
            )
            add(f'- field `{f["object"]}.{f["name"]}` {f["type"]}{extra} "{f["label"]}"{opts}')
        for o in prov.get("options", []):
            add(
                f"- options for `{o['object']}.{o['field']}`: "
                + ", ".join(f'{x["value"]} ("{x["label"]}")' for x in o["add"])
            )
        add("")
    owners = report.get("owners", {})
    if owners:
        add("## Owners")
        add("")
        add(owners["note"])
        add("")
        if owners.get("orphans"):
            add(
                "Owner e-mails that match no workspace member: "
                + ", ".join(f"`{e}`" for e in owners["orphans"])
                + "."
            )
            add("")
    add("## Problems")
    add("")
    add(f"- {report['rejects']['count']} records rejected — `rejects.csv`")
    for reason, n in report["rejects"]["top_reasons"]:
        add(f"  - {n} × {reason}")
    add(f"- {report['repairs']['count']} values repaired — `repairs.csv`")
    add(f"- {len(report['merges'])} records merged into a duplicate — `merges.csv`")
    add("")
    manifest = report.get("attachments")
    if manifest:
        add("## Attachments")
        add("")
        add(
            f"{manifest['total']} attachments, {manifest['missing']} with a missing file — "
            f"`{Path(manifest['file']).name}`."
        )
        add("")
    workflows = report.get("workflows", [])
    if workflows:
        add("## Workflow rebuild reference")
        add("")
        add("Twenty cannot import automations; rebuild each of these as a Twenty workflow.")
        for wf in workflows:
            add("")
            add(
                f"### {wf.get('name') or wf.get('id')}"
                f"{'' if wf.get('active', True) else ' (inactive)'}"
            )
            add("")
            add(f"- **Trigger:** {_text(wf.get('trigger'))}")
            add(f"- **Conditions:** {_text(wf.get('conditions'))}")
            add(f"- **Actions:** {_text(wf.get('actions'))}")
        add("")
    return "\n".join(out) + "\n"


def _text(value: Any) -> str:
    if value in (None, "", []):
        return "(none)"
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return value
    if isinstance(value, list):
        return "; ".join(_text(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_text(v)}" for k, v in value.items())
    return str(value)


def write_report(report: dict[str, Any], run_dir: Path) -> tuple[Path, Path]:
    json_path, md_path = run_dir / "report.json", run_dir / "report.md"
    json_path.write_text(json.dumps(report, indent=2, default=str), encoding="utf-8")
    md_path.write_text(markdown(report), encoding="utf-8")
    return json_path, md_path
