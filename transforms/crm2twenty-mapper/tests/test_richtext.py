"""The html_to_markdown transform on bodies shaped like the sources' own (PracticeHub treatment
notes, Sage CRM communications pasted from MS Office)."""

from __future__ import annotations

import pytest
from crm2twenty_mapper.richtext import html_to_markdown
from crm2twenty_mapper.transforms import Context, build


@pytest.mark.parametrize(
    ("html", "markdown"),
    [
        ("<p>One.</p><p>Two.</p>", "One.\n\nTwo."),
        ("<p>Pain <b>less</b>, <i>mobile</i><br>Review in 2 weeks</p>", None),
        ("<ul><li>Heat</li><li>Stretch</li></ul>", "- Heat\n- Stretch"),
        ("<ol><li>a</li><li>b</li></ol>", "1. a\n2. b"),
        ('<a href="https://example.com/plan">the plan</a>', "[the plan](https://example.com/plan)"),
        ("<p>Tom &amp; Jerry &eacute;t&eacute;&nbsp;2024</p>", "Tom & Jerry été 2024"),
        ('<p><span style="color:red;font-size:11pt">red</span></p>', "red"),
        (
            "<table><tr><th>Date</th><th>Dose</th></tr>"
            "<tr><td>1 May</td><td>5 mg</td></tr></table>",
            "| Date | Dose |\n| --- | --- |\n| 1 May | 5 mg |",
        ),
        ("<p></p><div> </div><p>&nbsp;</p>", None),
        ("Plain text\r\nkeeps 2 < 3 and a_b", "Plain text\nkeeps 2 < 3 and a_b"),
    ],
    ids=[
        "paragraphs",
        "breaks-bold-italic",
        "bullets",
        "numbers",
        "link",
        "entities",
        "inline-style",
        "table",
        "empty-tags",
        "plain-text",
    ],
)
def test_rich_bodies_become_markdown(html: str, markdown: str | None) -> None:
    got = html_to_markdown(html)
    if html.startswith("<p>Pain"):  # a <br> is a hard break; bold and italic are kept
        assert got == "Pain **less**, *mobile*\\\nReview in 2 weeks"
    else:
        assert got == markdown


def test_ms_office_markup_leaves_only_the_text() -> None:
    office = (
        "<html xmlns:o='urn:schemas-microsoft-com:office:office'><head><style>"
        "p.MsoNormal{margin:0cm}</style></head><body>"
        "<!--[if gte mso 9]><xml><o:OfficeDocumentSettings><o:AllowPNG/>"
        "</o:OfficeDocumentSettings></xml><![endif]-->"
        "<p class=MsoNormal>Dear Ana,<o:p></o:p></p><p class=MsoNormal><o:p>&nbsp;</o:p></p>"
        "<p class=MsoNormal><span style='mso-fareast-language:EN-GB'>Quote attached."
        "<o:p></o:p></span></p></body></html>"
    )
    assert html_to_markdown(office) == "Dear Ana,\n\nQuote attached."


def test_it_is_a_transform_the_rules_can_name() -> None:
    transform = build("html_to_markdown", Context())
    assert transform("<p>a</p><p>b</p>") == "a\n\nb"
