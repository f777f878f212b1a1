"""The Allegory export layout: which file is which stream, its key and its column aliases.

Allegory publishes no export format; this is the layout the tap defines (README.md, "The export
layout"), bent to real files with the `column_map` setting. Every stream also knows `updated_at`
(the replication key, with the aliases in ``crm2twenty_common.exports.MODIFIED_ALIASES``) and
`created_at` (``CREATED_ALIASES``).
"""

from __future__ import annotations

from crm2twenty_common.exports import ATTACHMENTS_MANIFEST, Layout, StreamSpec

COMPANIES = StreamSpec(
    "companies",
    description="organisations",
    aliases={
        "id": ("company_id", "account_id"),
        "name": ("company_name", "account_name", "organisation", "organization"),
        "website": ("domain", "url", "web"),
        "industry": ("sector",),
        "phone": ("telephone", "main_phone"),
        "street": ("address", "address_1", "street_address"),
        "city": ("town",),
        "state": ("region", "province", "county"),
        "postal_code": ("zip", "zip_code", "postcode", "post_code"),
        "country": (),
        "employees": ("employee_count", "headcount", "size"),
        "annual_revenue": ("revenue",),
        "currency": (),
        "parent_company_id": ("parent_id", "parent_company"),
        "owner_email": ("owner", "account_owner"),
        "linkedin": ("linkedin_url",),
    },
)

CONTACTS = StreamSpec(
    "contacts",
    description="people",
    aliases={
        "id": ("contact_id", "person_id"),
        "first_name": ("firstname", "given_name"),
        "last_name": ("lastname", "surname", "family_name"),
        "full_name": ("name", "contact_name"),
        "email": ("email_address", "e_mail", "primary_email"),
        "email_2": ("secondary_email", "other_email"),
        "phone": ("telephone", "work_phone"),
        "mobile": ("mobile_phone", "cell"),
        "job_title": ("title", "position", "role"),
        "company_id": ("account_id", "organisation_id"),
        "owner_email": ("owner",),
        "city": (),
        "country": (),
        "linkedin": ("linkedin_url",),
    },
)

DEALS = StreamSpec(
    "deals",
    description="opportunities, with a pipeline stage",
    aliases={
        "id": ("deal_id", "opportunity_id"),
        "name": ("deal_name", "title", "opportunity_name"),
        "stage": ("pipeline_stage", "status"),
        "amount": ("value", "deal_value"),
        "currency": (),
        "close_date": ("expected_close", "expected_close_date", "closing_date"),
        "probability": (),
        "company_id": (),
        "contact_id": ("primary_contact_id", "person_id"),
        "owner_email": ("owner",),
    },
)

TASKS = StreamSpec(
    "tasks",
    description="to-dos, calls, follow-ups",
    aliases={
        "id": ("task_id",),
        "title": ("subject", "name"),
        "body": ("description", "details"),
        "status": (),
        "due_date": ("due", "due_at", "deadline"),
        "assignee_email": ("assignee", "assigned_to", "owner_email"),
        "company_id": (),
        "contact_id": (),
        "deal_id": (),
    },
)

NOTES = StreamSpec(
    "notes",
    description="free-text notes on a company, contact or deal",
    aliases={
        "id": ("note_id",),
        "title": ("subject",),
        "body": ("note", "content", "text"),
        "author_email": ("author", "created_by"),
        "company_id": (),
        "contact_id": (),
        "deal_id": (),
    },
)

USERS = StreamSpec(
    "users",
    description="the people who own records",
    aliases={
        "id": ("user_id",),
        "email": ("email_address", "login"),
        "first_name": (),
        "last_name": (),
        "full_name": ("name",),
        "role": (),
        "active": ("is_active", "enabled"),
    },
)

ATTACHMENTS = ATTACHMENTS_MANIFEST

WORKFLOWS = StreamSpec(
    "workflows",
    json_array=True,
    array_columns=("conditions", "actions"),
    description="automation definitions, for the rebuild reference",
    aliases={
        "id": (),
        "name": (),
        "trigger": ("event", "when"),
        "conditions": ("condition", "filter"),
        "actions": ("action", "then"),
        "active": ("enabled", "is_active"),
    },
)

LAYOUT = Layout(
    streams=(COMPANIES, CONTACTS, DEALS, TASKS, NOTES, USERS, ATTACHMENTS, WORKFLOWS),
    extensions=(".csv",),
)
