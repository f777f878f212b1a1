"""One thin stream per PracticeHub list endpoint; what they share is in client.py, their
schemas in ``schemas/`` (fields community clients have seen, docs/sources.md §3.6)."""

from __future__ import annotations

import os
import re
import typing as t
from pathlib import Path
from urllib.parse import urlsplit

import requests

from tap_practicehub.client import TYPES, PracticeHubStream


class PractitionersStream(PracticeHubStream):
    """Owners of patient records (matched to Twenty members by e-mail)."""

    name = "practitioners"
    replication_key = None  # type: ignore[assignment]  # a lookup: full table


class AppointmentTypesStream(PracticeHubStream):
    name = "appointment_types"
    replication_key = None  # type: ignore[assignment]


class PaymentMethodsStream(PracticeHubStream):
    name = "payment_methods"
    replication_key = None  # type: ignore[assignment]


class PatientsStream(PracticeHubStream):
    name = "patients"

    def report(self, current: t.Any) -> None:
        self.notices.append(
            "PracticeHub has no companies: its patients become standalone people in "
            "Twenty (no company)."
        )
        super().report(current)


class AppointmentsStream(PracticeHubStream):
    name = "appointments"


class InvoicesStream(PracticeHubStream):
    name = "invoices"


class PaymentsStream(PracticeHubStream):
    name = "payments"


class PatientPackagesStream(PracticeHubStream):
    name = "patient_packages"

    def shape(self, raw: dict, where: str) -> dict:
        record = super().shape(raw, where)
        if record.get("patient_id") is None:
            # often null: the patient is in subscribed_patients (docs/sources.md §3.5)
            subscribed = [
                s.get("patient_id")
                for s in record.get("subscribed_patients") or []
                if isinstance(s, dict)
            ]
            record["patient_id"] = next((p for p in subscribed if p is not None), None)
        return record


class PatientLogsStream(PracticeHubStream):
    """Treatment notes (``data`` is HTML)."""

    name = "patient_logs"


class FilesStream(PracticeHubStream):
    """Patient library metadata; with `download_dir`, each pre-signed ``url`` is fetched as
    its page is read (the link expires within minutes)."""

    name = "files"

    def shape(self, raw: dict, where: str) -> dict:
        record = super().shape(raw, where)
        download = self.config.get("download_dir")
        if download and record.get("url"):
            name = re.sub(r"[^\w.\- ]", "_", str(record.get("file_name") or "file"))
            dest = Path(download) / f"{record['id']}-{name}"
            ok = self.download(record["url"], dest, record.get("size"))
            record["local_path"] = str(dest.resolve()) if ok else None
            record["file_exists"] = ok
        return record

    def download(self, url: str, dest: Path, size: int | None) -> bool:
        """Fetch a pre-signed file URL into ``dest``; True when the file is there.

        The URL points at S3, not PracticeHub: it is fetched without the PracticeHub headers
        (the key must not travel to another host) and outside PracticeHub's pacer, under the
        same retry policy."""
        if dest.is_file() and (size is None or dest.stat().st_size == size):
            return True  # fetched by an earlier (interrupted) run
        dest.parent.mkdir(parents=True, exist_ok=True)
        shown = urlsplit(url).path  # the signature in the query is a credential too

        def fetch() -> bool:
            with requests.get(url, timeout=self.session.timeout, stream=True) as answer:
                if answer.status_code >= 500 or answer.status_code == 429:
                    raise requests.ConnectionError(f"{answer.status_code}")
                if answer.status_code >= 400:
                    self.logger.warning("File %s not downloaded (%s)", shown, answer.status_code)
                    return False
                part = dest.with_name(dest.name + ".part")
                with part.open("wb") as handle:
                    for chunk in answer.iter_content(1 << 16):
                        handle.write(chunk)
                os.replace(part, dest)
                return True

        retried = self.session.policy.decorate(fetch, (requests.ConnectionError, requests.Timeout))
        try:
            return retried()
        except (requests.ConnectionError, requests.Timeout) as exc:
            self.logger.warning("File %s not downloaded: %s", shown, type(exc).__name__)
            return False


class ExtraStream(PracticeHubStream):
    """A list endpoint named in `extra_streams`: id and dates as columns, the whole row in
    ``record`` (its fields are not known in advance)."""

    SCHEMA: t.ClassVar[dict[str, t.Any]] = {
        "type": "object",
        "properties": {
            "id": TYPES["integer"],
            "created": TYPES["date-time"],
            "updated": TYPES["date-time"],
            "record": TYPES["object"],
        },
    }

    def shape(self, raw: dict, where: str) -> dict:
        return {**super().shape(raw, where), "record": raw}


# Lookups first: the mapper resolves practitioners and appointment types as later streams pass.
STREAM_TYPES: list[type[PracticeHubStream]] = [
    PractitionersStream,
    AppointmentTypesStream,
    PaymentMethodsStream,
    PatientsStream,
    AppointmentsStream,
    InvoicesStream,
    PaymentsStream,
    PatientPackagesStream,
    PatientLogsStream,
    FilesStream,
]
