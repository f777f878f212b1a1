"""The Jinja environment of the mapper's HTML pages, the mapping sheet (sheet.py) and the source
profile (profile.py): one loader over templates/, where their shared stylesheet lives too."""

from __future__ import annotations

import jinja2

PAGES = jinja2.Environment(
    loader=jinja2.PackageLoader("crm2twenty_mapper", "templates"),
    autoescape=True,
    trim_blocks=True,
    lstrip_blocks=True,
    undefined=jinja2.StrictUndefined,
)
# a share (0..1) as a percentage: 12.5 %, 40 %
PAGES.filters["pct"] = lambda share: f"{share * 100:.1f} %".replace(".0 %", " %")
