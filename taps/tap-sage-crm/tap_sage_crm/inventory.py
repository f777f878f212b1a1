"""What cannot move from Sage CRM and the tap cannot read: its reports, and its security profiles
with the users assigned to them. The report gives each a section saying what to collect.

Sage keeps report definitions in its `Custom_Report*` metadata tables and security in profiles
and territories assigned per user (docs/sources.md §1.5); its web-service and REST
documentation names no entity for either, so the tap reads neither and does not guess.
"""

from __future__ import annotations

from crm2twenty_common.twenty import InventoryItem

REPORTS = "Sage CRM reports"
SECURITY = "Sage CRM security profiles and role assignments"


def by_hand(source: str) -> list[InventoryItem]:
    return [
        InventoryItem(
            source,
            REPORTS,
            by_hand=(
                "Sage CRM's web services do not expose report definitions, so none was read. "
                "List each report from the Reports area (its name, category, source view, the "
                "columns it shows and their captions, its search criteria, and who receives it "
                "when it is scheduled), or have the database administrator export the tables "
                "custom_reports, custom_reportbands, custom_reportfields, "
                "custom_reportsearches, custom_reportgroups and custom_reportcharts; rebuild "
                "the ones still needed as Twenty views and dashboards."
            ),
        ),
        InventoryItem(
            source,
            SECURITY,
            by_hand=(
                "Sage CRM's web services do not expose security profiles, so none was read. "
                "Note each profile's view, edit, insert and delete rights per entity and "
                "territory (Administration → Users → Security → Security Profiles) and each "
                "user's profile and home territory (the user's Security Profile panel), to "
                "rebuild them as Twenty roles and assign them to the invited members."
            ),
        ),
    ]
