"""Loading, choosing and checking a rules file.

A rules file is reviewable data (YAML) that says how one source system's streams become Twenty
records. Errors name the file and the path inside it, so a user editing rules sees what to fix.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from crm2twenty_common.errors import UserError

from crm2twenty_mapper import transforms

BUILTIN_DIR = "rules"


class RulesError(UserError, ValueError):
    """A rules file that cannot be used, with the file and the place in it."""


@dataclass
class Rules:
    path: str
    source: str
    label: str
    extractors: list[str]
    source_id_field: dict[str, Any] | None
    defaults: transforms.Context
    unmapped_streams: str
    objects: dict[str, dict[str, Any]]
    streams: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    lookups: dict[str, dict[str, str]] = field(default_factory=dict)
    ignore_streams: dict[str, str] = field(default_factory=dict)
    ignore_rows: list[dict[str, Any]] = field(default_factory=list)
    ignore_columns: list[str] = field(default_factory=list)


def builtin_names() -> list[str]:
    folder = resources.files("crm2twenty_mapper") / BUILTIN_DIR
    return sorted(p.name[:-4] for p in folder.iterdir() if p.name.endswith(".yml"))


def _builtin_text(name: str) -> tuple[str, str]:
    path = resources.files("crm2twenty_mapper") / BUILTIN_DIR / f"{name}.yml"
    return f"rules/{name}.yml (built in)", path.read_text(encoding="utf-8")


def choose(setting: str | None, extractor_name: str | None, extractor_namespace: str | None) -> str:
    """Which rules to load: the ``rules`` setting, else the built-in file serving the extractor.

    Meltano gives the mapper ``MELTANO_EXTRACTOR_NAME`` / ``MELTANO_EXTRACTOR_NAMESPACE``
    (docs/singer-meltano.md §2.7), so one ``mapper`` mapping serves every tap unedited.
    """
    if setting:
        return setting
    wanted = {n for n in (extractor_name, extractor_namespace) if n}
    wanted |= {n.replace("_", "-") for n in wanted}
    for name in builtin_names():
        _, text = _builtin_text(name)
        data = _yaml(text) or {}
        if wanted & set(data.get("extractors") or []):
            return name
    raise RulesError(
        "No rules chosen: set the mapper's `rules` setting (a path or one of "
        f"{', '.join(builtin_names())}), or run it from Meltano after an extractor those rules "
        f"name (got extractor {extractor_name or 'none'!r})."
    )


def load(
    ref: str, options: dict[str, Any] | None = None, defaults: dict[str, Any] | None = None
) -> Rules:
    """Load rules from a path or a built-in name, and check them; ``options`` (the mapper's
    ``rule_options`` setting) choose between the outputs marked ``if_option``; ``defaults``
    (from the mapper's settings, e.g. ``default_country``) override the file's ``defaults:``."""
    where, data = load_data(ref)
    return parse(data, where, options, defaults)


def load_data(ref: str) -> tuple[str, Any]:
    """A rules file's place (for messages) and its data, unchecked, from a path or a built-in
    name (the proposal extends the data before it is checked)."""
    path = Path(ref)
    if path.suffix in (".yml", ".yaml") or path.exists():
        if not path.is_file():
            raise RulesError(f"rules file {ref} does not exist")
        where, text = str(path), path.read_text(encoding="utf-8")
    elif ref in builtin_names():
        where, text = _builtin_text(ref)
    else:
        raise RulesError(f"unknown rules {ref!r}: not a file and not one of {builtin_names()}")
    try:
        return where, _yaml(text)
    except yaml.YAMLError as exc:
        raise RulesError(f"{where}: not valid YAML: {exc}") from exc


def _yaml(text: str) -> Any:
    """YAML's safe subset, parsed by libyaml when PyYAML has it (about 10× the pure-Python
    loader's speed, and the same result)."""
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506


def parse(
    data: Any,
    where: str,
    options: dict[str, Any] | None = None,
    defaults_override: dict[str, Any] | None = None,
) -> Rules:
    schema = json.loads(
        (resources.files("crm2twenty_mapper") / "rules-schema.json").read_text(encoding="utf-8")
    )
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        lines = [
            f"  {'.'.join(str(p) for p in e.absolute_path) or '(top)'}: {e.message}"
            for e in errors[:20]
        ]
        raise RulesError(f"{where} is not a valid rules file:\n" + "\n".join(lines))
    chosen = {**(data.get("options") or {}), **(options or {})}
    unknown = set(options or {}) - set(data.get("options") or {})
    if unknown:
        raise RulesError(
            f"{where}: no such rule option {', '.join(sorted(unknown))} "
            f"(options: {', '.join(sorted(data.get('options') or {})) or 'none'})"
        )
    streams = {}
    for stream, outputs in data["streams"].items():
        kept = []
        for i, output in enumerate(outputs):
            wanted = output.get("if_option") or {}
            for key in wanted:
                if key not in chosen:
                    raise RulesError(
                        f"{where}: streams.{stream}[{i}].if_option: {key!r} is not "
                        "declared under options"
                    )
            if all(str(chosen[k]) == str(v) for k, v in wanted.items()):
                kept.append({k: v for k, v in output.items() if k != "if_option"})
        streams[stream] = kept
    defaults = transforms.Context(**{**(data.get("defaults") or {}), **(defaults_override or {})})
    rules = Rules(
        path=where,
        source=data["source"],
        label=data.get("label", data["source"]),
        extractors=list(data.get("extractors") or []),
        source_id_field=data.get("source_id_field"),
        defaults=defaults,
        unmapped_streams=data.get("unmapped_streams", "custom_object"),
        objects=dict(data.get("objects") or {}),
        streams=streams,
        lookups=dict(data.get("lookups") or {}),
        ignore_streams=dict(data.get("ignore_streams") or {}),
        ignore_rows=list(data.get("ignore_rows") or []),
        ignore_columns=list(data.get("ignore_columns") or []),
    )
    _check_semantics(rules)
    return rules


def _check_semantics(rules: Rules) -> None:
    """What JSON Schema cannot say: known transforms, one field source, an unconditional primary."""
    for stream, outputs in rules.streams.items():
        if not outputs:
            raise RulesError(
                f"{rules.path}: streams.{stream}: no output (to leave a stream out, "
                "list it under ignore_streams with the reason)"
            )
        primaries = [o for i, o in enumerate(outputs) if o.get("primary", i == 0)]
        if any("each" in p for p in primaries):
            raise RulesError(
                f"{rules.path}: streams.{stream}: a primary output cannot have `each` — it "
                "stands for one source row"
            )
        if len(primaries) == 1 and "when" in primaries[0]:
            raise RulesError(
                f"{rules.path}: streams.{stream}: a lone primary output cannot have `when` — every "
                "source row must be mapped or rejected, never skipped (give alternatives: several "
                "primary outputs, each with a `when`, the first that matches is used)"
            )
        if any("when" not in p for p in primaries[:-1]):
            raise RulesError(
                f"{rules.path}: streams.{stream}: primary alternatives need a `when`"
                " each (only the last may go without, as the default)"
            )
        for i, output in enumerate(outputs):
            for name, spec in (output.get("fields") or {}).items():
                place = f"{rules.path}: streams.{stream}[{i}].fields.{name}"
                if isinstance(spec, str):
                    continue
                sources = [
                    k for k in ("from", "from_any", "from_all", "const", "owner") if k in spec
                ]
                if len(sources) > 1:
                    raise RulesError(f"{place}: use only one of {', '.join(sources)}")
                if not sources and not ("ref" in spec and "key" in spec):
                    raise RulesError(
                        f"{place}: needs from, from_any, from_all, const, owner or ref+key"
                    )
                for item in spec.get("transforms") or []:
                    tname = item if isinstance(item, str) else next(iter(item))
                    if tname not in transforms.REGISTRY:
                        raise RulesError(
                            f"{place}: unknown transform {tname!r} "
                            f"(known: {', '.join(sorted(transforms.REGISTRY))})"
                        )
