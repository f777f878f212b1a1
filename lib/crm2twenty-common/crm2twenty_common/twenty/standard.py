"""The data fields Twenty's standard objects have on every workspace, by name: type and label.

Read from the captured v2.21.0 metadata (docs/twenty-contract.md §3.5; the test
``test_twenty_standard.py`` checks this table against it): only fields a migration fills from a
source column — no relations, system or technical fields. The mapper's inference matches unnamed
source columns against these names and labels before it proposes a new custom field.
"""

from __future__ import annotations

STANDARD_FIELDS: dict[str, dict[str, tuple[str, str]]] = {
    "company": {
        "name": ("TEXT", "Name"),
        "domainName": ("LINKS", "Domain Name"),
        "address": ("ADDRESS", "Address"),
        "linkedinLink": ("LINKS", "Linkedin"),
        "annualRevenue": ("CURRENCY", "Annual Revenue"),
    },
    "person": {
        "name": ("FULL_NAME", "Name"),
        "emails": ("EMAILS", "Emails"),
        "linkedinLink": ("LINKS", "Linkedin"),
        "jobTitle": ("TEXT", "Job Title"),
        "phones": ("PHONES", "Phones"),
        "avatarUrl": ("TEXT", "Avatar"),
    },
    "opportunity": {
        "name": ("TEXT", "Name"),
        "amount": ("CURRENCY", "Amount"),
        "closeDate": ("DATE_TIME", "Close date"),
        "stage": ("SELECT", "Stage"),
    },
    "note": {"title": ("TEXT", "Title"), "bodyV2": ("RICH_TEXT", "Body")},
    "task": {
        "title": ("TEXT", "Title"),
        "bodyV2": ("RICH_TEXT", "Body"),
        "dueAt": ("DATE_TIME", "Due Date"),
        "status": ("SELECT", "Status"),
    },
}
