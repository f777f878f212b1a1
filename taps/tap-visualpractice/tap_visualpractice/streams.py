"""The Visual Practice export layout: which file is which stream, its key and its column aliases.

Visual Practice publishes no export layout; its own import format, VPL, is quote-and-comma text
(every cell in double quotes, comma-separated, CR-terminated lines). This is the layout the tap
defines (README.md, "The export layout"): each object is a `<name>.csv` or `<name>.vpl` file,
bent to real files with the `column_map` setting. Every stream also knows `updated_at` (the
replication key, aliases in ``crm2twenty_common.exports.MODIFIED_ALIASES``) and `created_at`.
"""

from __future__ import annotations

from crm2twenty_common.exports import ATTACHMENTS_MANIFEST, Layout, StreamSpec

COMPANIES = StreamSpec(
    "companies",
    files=("companies", "company", "accounts", "organisations", "organizations"),
    description="organisations (clinics, practices, firms)",
    aliases={
        "id": ("company_id", "account_id", "organisation_id", "organization_id"),
        "name": ("company_name", "account_name", "organisation", "organization", "practice"),
        "website": ("domain", "url", "web"),
        "industry": ("sector", "specialty", "speciality"),
        "phone": ("telephone", "main_phone"),
        "street": ("address", "address_1", "address1", "street_address"),
        "city": ("town",),
        "state": ("province", "region", "county"),
        "postal_code": ("zip", "zip_code", "postcode", "post_code"),
        "country": (),
        "employees": ("employee_count", "headcount", "size"),
        "parent_company_id": ("parent_id", "parent_company", "parent_account_id"),
        "owner_email": ("owner", "account_owner"),
    },
)

CONTACTS = StreamSpec(
    "contacts",
    files=("contacts", "contact", "patients", "people", "persons"),
    description="people (contacts, patients)",
    aliases={
        "id": ("contact_id", "person_id", "patient_id"),
        "first_name": ("firstname", "given_name"),
        "last_name": ("lastname", "surname", "family_name"),
        "full_name": ("name", "contact_name", "patient_name"),
        "email": ("email_address", "e_mail", "primary_email"),
        "email_2": ("secondary_email", "other_email"),
        "phone": ("telephone", "home_phone", "work_phone"),
        "mobile": ("mobile_phone", "cell"),
        "job_title": ("title", "position", "role"),
        "company_id": ("account_id", "organisation_id", "organization_id"),
        "owner_email": ("owner", "provider_email"),
        "city": ("town",),
        "country": (),
    },
)

DEALS = StreamSpec(
    "deals",
    files=("deals", "deal", "opportunities"),
    description="opportunities, each in a pipeline stage",
    aliases={
        "id": ("deal_id", "opportunity_id"),
        "name": ("deal_name", "title", "opportunity_name"),
        "stage": ("pipeline_stage", "stage_name", "status"),
        "amount": ("value", "deal_value"),
        "currency": (),
        "close_date": ("expected_close", "expected_close_date", "closing_date"),
        "company_id": ("account_id",),
        "contact_id": ("primary_contact_id", "person_id", "patient_id"),
        "owner_email": ("owner",),
    },
)

PIPELINE_STAGES = StreamSpec(
    "pipeline_stages",
    files=("pipeline_stages", "stages", "deal_stages"),
    description="the deal pipeline: stage name, order and win probability",
    aliases={
        "id": ("stage_id",),
        "name": ("stage", "stage_name", "label"),
        "order": ("position", "sequence", "sort_order", "display_order", "rank"),
        "probability": ("win_probability", "percent", "probability_percent"),
        "pipeline": ("pipeline_name",),
    },
)

ACTIVITIES = StreamSpec(
    "activities",
    files=("activities", "activity", "events"),
    description="calls, e-mails and meetings, with start and end times",
    aliases={
        "id": ("activity_id", "event_id"),
        "type": ("activity_type", "kind", "category"),
        "subject": ("title", "name"),
        "notes": ("body", "description", "details", "meeting_notes", "minutes"),
        "start_at": ("start", "starts_at", "start_time", "start_date", "scheduled_at"),
        "end_at": ("end", "ends_at", "end_time", "end_date"),
        "status": (),
        "owner_email": ("owner", "user_email", "assignee_email"),
        "company_id": ("account_id",),
        "contact_id": ("person_id", "patient_id"),
        "deal_id": ("opportunity_id",),
    },
)

NOTES = StreamSpec(
    "notes",
    files=("notes", "note"),
    description="free-text notes on a company, contact or deal, with their author",
    aliases={
        "id": ("note_id",),
        "title": ("subject",),
        "body": ("note", "content", "text"),
        "author_email": ("author", "created_by", "created_by_email"),
        "author_name": ("created_by_name",),
        "company_id": ("account_id",),
        "contact_id": ("person_id", "patient_id"),
        "deal_id": ("opportunity_id",),
    },
)

TASKS = StreamSpec(
    "tasks",
    files=("tasks", "task", "todos"),
    description="to-dos and follow-ups",
    aliases={
        "id": ("task_id",),
        "title": ("subject", "name"),
        "body": ("description", "details"),
        "status": (),
        "due_date": ("due", "due_at", "deadline"),
        "assignee_email": ("assignee", "assigned_to", "owner_email"),
        "company_id": ("account_id",),
        "contact_id": ("person_id", "patient_id"),
        "deal_id": ("opportunity_id",),
    },
)

USERS = StreamSpec(
    "users",
    files=("users", "user", "staff", "providers"),
    description="the people who own records",
    aliases={
        "id": ("user_id", "provider_id"),
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
    files=("workflows", "automations", "workflow_definitions"),
    json_array=True,
    array_columns=("conditions", "actions"),
    description="workflow and automation definitions, for the rebuild reference",
    aliases={
        "id": ("workflow_id", "automation_id"),
        "name": (),
        "trigger": ("event", "when"),
        "conditions": ("condition", "filter"),
        "actions": ("action", "then"),
        "active": ("enabled", "is_active"),
    },
)

VPL = ".vpl"

LAYOUT = Layout(
    streams=(
        COMPANIES,
        CONTACTS,
        DEALS,
        PIPELINE_STAGES,
        ACTIVITIES,
        NOTES,
        TASKS,
        USERS,
        ATTACHMENTS,
        WORKFLOWS,
    ),
    extensions=(".csv", VPL),
    # VPL is quote-and-comma by definition, so it is not sniffed: a one-column file whose
    # cells hold semicolons would otherwise be taken as semicolon-separated.
    delimiters={VPL: ","},
)

# Streams the mapper reads as lookup tables must be synced before the streams that use them
# (deals look up their stage's probability); the rest keep singer-sdk's name order.
SYNC_FIRST = ("users", "pipeline_stages")
