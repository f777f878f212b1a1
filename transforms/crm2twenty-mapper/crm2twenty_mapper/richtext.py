"""Rich text → Markdown for Twenty's ``bodyV2.markdown`` (the ``html_to_markdown`` transform).

Sources keep note and activity bodies as HTML (PracticeHub treatment notes, Sage CRM
communications, often pasted from MS Office); Twenty's rich text field takes Markdown, and
HTML source kept verbatim shows its tags to the user. The conversion is markdownify's (over
BeautifulSoup's html.parser); ours is only the clean-up around it, which markdownify does not
do: what a browser never shows (``<style>``, ``<script>``, ``<head>``, comments — MS Office's
conditional ``<!--[if mso]>`` blocks among them) is removed before converting, and the blank
lines that empty tags (``<o:p></o:p>``, ``<p>&nbsp;</p>``) leave are collapsed after.

Text that is not HTML (no tag) passes through with its line endings normalised, so the
transform can be applied to any body.
"""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from markdownify import MarkdownConverter

# a tag as HTML writes one: "<p>", "</b>", "<br/>", "<o:p>", "<td class=…>"
_TAG = re.compile(r"</?[A-Za-z][\w:-]*(\s[^<>]*)?/?>")
_HIDDEN = ("style", "script", "head", "title", "meta", "xml", "template")
_BLANK_RUN = re.compile(r"\n[ \t\xa0]*(?:\n[ \t\xa0]*)+")


@functools.cache
def _converter() -> MarkdownConverter:
    """markdownify's converter, built (and BeautifulSoup imported) on the first HTML body: the
    libraries take a tenth of a second to import, and most rules files never convert HTML."""
    from markdownify import MarkdownConverter

    # a <br> is a CommonMark hard break written as a backslash (trailing spaces would be
    # trimmed)
    return MarkdownConverter(
        heading_style="ATX", bullets="-", strong_em_symbol="*", newline_style="BACKSLASH"
    )


def is_html(text: str) -> bool:
    """Whether ``text`` holds at least one HTML tag."""
    return "<" in text and _TAG.search(text) is not None


def html_to_markdown(value: Any) -> str | None:
    """HTML → Markdown; plain text as it is (line endings normalised); None for no text."""
    if value is None:
        return None
    text = str(value).replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        return None
    if not is_html(text):
        return text
    from bs4 import BeautifulSoup, Comment  # (see _converter)

    soup = BeautifulSoup(text, "html.parser")
    for comment in soup.find_all(string=lambda s: isinstance(s, Comment)):
        comment.extract()
    for hidden in soup.find_all(_HIDDEN):
        hidden.decompose()
    markdown = _converter().convert_soup(soup)
    lines = [line.rstrip().replace("\xa0", " ") for line in markdown.split("\n")]
    markdown = _BLANK_RUN.sub("\n\n", "\n".join(lines)).strip()
    return markdown or None
