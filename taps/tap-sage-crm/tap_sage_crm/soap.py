"""Sage CRM's SOAP web services through zeep, keeping Sage's session rules.

A user has one web-service session (docs/sources.md §1.1): the tap logs on once, carries the
``SessionHeader`` on every call, and logs off in every case — after an error and on Ctrl-C too —
because a session left open blocks the next run. Queries are strictly sequential: any call
other than ``nextqueryrecord`` closes an open query, so a result is read to its end before
anything else is asked.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any

import requests
import zeep
from crm2twenty_common.pacer import RetryPolicy
from zeep.exceptions import Fault, TransportError
from zeep.transports import Transport

from tap_sage_crm.entities import EntityInfo

LOG = logging.getLogger("tap-sage-crm")
TRANSIENT = (requests.ConnectionError, requests.Timeout, TransportError)


def _transient(exc: Exception) -> bool:
    """In transit, or a server that is busy for now (the WSDL fetch raises HTTPError on 5xx)."""
    if isinstance(exc, requests.HTTPError):
        status = exc.response.status_code if exc.response is not None else 0
        return status == 429 or status >= 500
    return isinstance(exc, TRANSIENT)


class SageError(RuntimeError):
    """Sage refused a call; the message names the entity and the call."""


class SoapSession:
    def __init__(
        self, wsdl_url: str, username: str, password: str, *, timeout: float, policy: RetryPolicy
    ) -> None:
        self.wsdl_url, self.username, self._password = wsdl_url, username, password
        self.policy = policy
        session = requests.Session()
        self.transport = Transport(session=session, timeout=timeout, operation_timeout=timeout)
        self.client: zeep.Client | None = None
        self.session_id: str | None = None

    # ---- session ------------------------------------------------------------------------

    def open(self) -> None:
        if self.session_id:
            return
        self.client = self._retry(
            lambda: zeep.Client(self.wsdl_url, transport=self.transport), "load the WSDL", ""
        )
        try:
            result = self._retry(
                lambda: self.client.service.logon(username=self.username, password=self._password),
                "logon",
                "",
            )
        except SageError as exc:
            if "already has a web service session" in str(exc):
                raise SageError(
                    f"{str(exc).rstrip('.')}. Sage CRM allows one web-service session per "
                    "user and an earlier run seems to have left one open: wait for it to time "
                    "out, or set "
                    "Administration → System → Web Services → 'Force web service logon' to Yes, "
                    "which clears a stale session."
                ) from exc
            raise
        self.session_id = getattr(result, "sessionid", result)

    @property
    def _service(self) -> Any:
        """The WSDL's operations; only after open() has loaded the WSDL."""
        if self.client is None:
            raise SageError("the SOAP session is not open")
        return self.client.service

    def close(self) -> None:
        """Log off; never raises (it runs while another error may be on its way out)."""
        if not self.session_id or self.client is None:
            return
        try:
            self.client.service.logoff(sessionId=self.session_id, _soapheaders=self._header())
        except Exception as exc:
            LOG.warning("logoff failed (%s); the session may stay open until Sage expires it", exc)
        finally:
            self.session_id = None

    def _header(self) -> dict:
        return {"SessionHeader": {"sessionId": self.session_id}}

    def _retry(self, call: Any, what: str, entity: str) -> Any:
        """``call`` under the tap's retry policy (the REST side's too): retried while it fails
        in transit or the server is busy; a SOAP fault is Sage's answer, not retried."""
        on = f" on {entity}" if entity else ""

        def said(details: Any) -> None:
            LOG.info(
                "%s failed (%s): retrying in %.1f s", what, details["exception"], details["wait"]
            )

        retried = self.policy.decorate(
            call,
            (*TRANSIENT, requests.HTTPError),
            giveup=lambda exc: not _transient(exc),
            on_backoff=said,
        )
        try:
            return retried()
        except Fault as fault:
            raise SageError(f"Sage CRM refused {what}{on}: {fault.message}") from fault
        except (*TRANSIENT, requests.HTTPError) as exc:
            raise SageError(f"Sage CRM did not answer {what}{on}: {exc}") from exc

    # ---- calls --------------------------------------------------------------------------

    def metadata(self) -> list[EntityInfo]:
        self.open()
        result = self._retry(
            lambda: self._service.getallmetadata(_soapheaders=self._header()),
            "getallmetadata",
            "",
        )
        items = result if isinstance(result, list) else getattr(result, "records", None) or []
        out = []
        for item in items:
            fields = {f.name.lower(): f.type for f in item.fields or []}
            lookups = {
                f.name.lower(): f.lookupentity
                for f in item.fields or []
                if getattr(f, "lookupentity", None)
            }
            out.append(
                EntityInfo(
                    stream="",
                    entity=item.entityname,
                    prefix=item.prefix,
                    idfield=item.idfield.lower(),
                    custom=bool(item.custom),
                    fields=fields,
                    lookups=lookups,
                )
            )
        return out

    def records(
        self, entity: str, fields: list[str], where: str, orderby: str
    ) -> Iterator[dict[str, str | None]]:
        """Every row of a query, as text, reading ``more`` batches to the end.

        A transport failure mid-query loses Sage's cursor, so the query starts again and the
        rows already given are skipped (the order is fixed by ``orderby``). This is the one
        retry the policy's decorator cannot express (a generator resumed after the rows it has
        given); it takes the policy's tries and waits."""
        self.open()
        given = 0
        attempt = 0
        while True:
            try:
                for seen, row in enumerate(self._query(entity, fields, where, orderby), 1):
                    if seen > given:
                        given += 1
                        yield row
                return
            except SageError as exc:
                if not isinstance(exc.__cause__, TRANSIENT) or attempt + 1 >= self.policy.max_tries:
                    raise
                attempt += 1
                wait = self.policy.wait_for(exc.__cause__, attempt)
                LOG.warning(
                    "query on %s broke after %d rows (%s); running it again in %.1f s",
                    entity,
                    given,
                    exc.__cause__,
                    wait,
                )
                time.sleep(wait)

    def _query(
        self, entity: str, fields: list[str], where: str, orderby: str
    ) -> Iterator[dict[str, str | None]]:
        result = self._once(
            lambda: self._service.queryrecord(
                fieldlist=",".join(fields),
                queryString=where,
                entityname=entity,
                orderby=orderby,
                _soapheaders=self._header(),
            ),
            "queryrecord",
            entity,
        )
        while True:
            for record in result.records or []:
                yield {f.name.lower(): f.value for f in record.records or []}
            if not result.more:
                return
            result = self._once(
                lambda: self._service.nextqueryrecord(_soapheaders=self._header()),
                "nextqueryrecord",
                entity,
            )

    def _once(self, call: Any, what: str, entity: str) -> Any:
        try:
            return call()
        except Fault as fault:
            raise SageError(f"Sage CRM refused {what} on {entity}: {fault.message}") from fault
        except TRANSIENT as exc:
            raise SageError(f"{what} on {entity} failed: {exc}") from exc
