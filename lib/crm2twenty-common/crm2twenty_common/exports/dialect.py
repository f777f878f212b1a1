"""Which delimiter an export file uses: comma, semicolon (European Excel) or tab.

``csv.Sniffer`` looks at the first 64 KiB, restricted to the candidates. It is fooled by short or
irregular samples, so its answer is checked against the header line: when the header holds
none of the sniffed delimiter but does hold another candidate, the header's most frequent
candidate wins. Files are opened with ``newline=""`` so CRLF, CR-only and LF endings and
newlines inside quoted cells all read the same.
"""

from __future__ import annotations

import csv
from pathlib import Path

CANDIDATES = ",;\t"
SAMPLE_CHARS = 1 << 16

# Spellings the `delimiter` setting accepts (JSON and YAML make a literal tab awkward).
NAMES = {
    ",": ",",
    "comma": ",",
    ";": ";",
    "semicolon": ";",
    "\t": "\t",
    "\\t": "\t",
    "tab": "\t",
    "|": "|",
    "pipe": "|",
}


def delimiter_setting(value: str | None) -> str | None:
    """The delimiter a setting forces (None: sniff); an unknown spelling raises ValueError."""
    if value is None or value == "":
        return None
    try:
        return NAMES[value.lower() if len(value) > 1 else value]
    except KeyError:
        raise ValueError(
            f"unknown delimiter {value!r} (use one of: ',', ';', 'tab', '|')"
        ) from None


def _header_line(sample: str) -> str:
    return next((line for line in sample.splitlines() if line.strip()), "")


def _count_unquoted(line: str, candidates: str) -> dict[str, int]:
    counts = dict.fromkeys(candidates, 0)
    quoted = False
    for char in line:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in counts:
            counts[char] += 1
    return counts


def guess_from_header(sample: str, candidates: str = CANDIDATES) -> str:
    """The candidate seen most often (outside quotes) in the first non-blank line; the first
    candidate on a tie, and for a one-column file."""
    counts = _count_unquoted(_header_line(sample), candidates)
    best = max(candidates, key=lambda d: counts[d])  # max keeps the first of equals
    return best if counts[best] else candidates[0]


def sniff_sample(sample: str, candidates: str = CANDIDATES) -> str:
    """The delimiter of a text sample (the start of a file)."""
    # A sample cut inside a row misleads the sniffer: end it at the last line break.
    cut = max(sample.rfind("\n"), sample.rfind("\r"))
    if cut > 0 and len(sample) >= SAMPLE_CHARS:
        sample = sample[:cut]
    header_counts = _count_unquoted(_header_line(sample), candidates)
    try:
        sniffed = csv.Sniffer().sniff(sample, delimiters=candidates).delimiter
    except csv.Error:
        sniffed = None
    if sniffed in header_counts and (header_counts[sniffed] or not any(header_counts.values())):
        return sniffed
    return guess_from_header(sample, candidates)


def sniff_delimiter(
    path: Path,
    encoding: str,
    forced: str | None = None,
    *,
    errors: str = "strict",
    candidates: str = CANDIDATES,
) -> str:
    """The delimiter of ``path``: ``forced`` (a :data:`NAMES` spelling) or sniffed."""
    chosen = delimiter_setting(forced)
    if chosen:
        return chosen
    with path.open(encoding=encoding, errors=errors, newline="") as handle:
        sample = handle.read(SAMPLE_CHARS)
    return sniff_sample(sample, candidates)
