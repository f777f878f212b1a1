"""A fake Sage CRM on loopback: SOAP web services (real WSDL, real XML) and the REST API.

SOAP, following docs/sources.md §1.1:
- the WSDL is served at ``/{install}/eware.dll/webservices/webservice.wsdl``, the endpoint is
  ``/{install}/eware.dll/webservices/soap``; namespace ``http://tempuri.org/type``;
- ``logon(username, password)`` gives a session id, which every later call carries in a
  ``SessionHeader``; ``logoff(sessionId)`` ends it;
- **one web-service session per user**: a second logon while one is open is refused, unless
  "Force web service logon" is on (``force_logon``), which clears the stale one;
- ``queryrecord(fieldlist, queryString, entityname, orderby)``: ``queryString`` is a SQL WHERE
  clause without the word WHERE, ``fieldlist`` ``*``/empty or a comma list; results come in
  batches of "Maximum number of records to return" (``batch_size``) with a ``more`` flag;
  ``nextqueryrecord()`` continues; **any other call closes the open query**;
- SOAP faults for errors (unknown column, unknown entity, bad session).

REST (``sagecrm2``, §1.2): ``/sdata/{install}j/sagecrm2/-/{resource}``, Basic auth, a JSON list
``{"$totalResults", "$startIndex", "$itemsPerPage", "$resources": [{"$key", …}]}``, paging with
``startIndex`` (1-based) and ``count``, ``where=`` with ``eq, ne, gt, ge, lt, le, like, and, or``
and ``@date@`` literals; **no filtering on NULL** (a Sage community report: ``is null`` is not
expressible); ``$prototypes`` and ``$prototypes/{entity}`` describe entities and fields.

``calls`` records every operation (name, session) so tests can check the session rules and that
every session was logged off.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from fakes.loopback import LoopbackServer, QuietHandler
from fakes.sage_data import Entity, build

SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
T = "http://tempuri.org/type"
WSDL = Path(__file__).with_name("sage_webservice.wsdl")
# Sage entry types → the crmrecordtype a queryrecord field carries.
RECORD_TYPES = {
    "Integer": "integer",
    "Currency": "decimal",
    "Numeric": "decimal",
    "Date & Time": "datetime",
    "Date Only": "datetime",
    "User Select": "integer",
    "Search Select Advanced": "integer",
}


class SoapFault(Exception):
    pass


class FakeSage(LoopbackServer):
    def __init__(
        self,
        *,
        users: dict[str, str] | None = None,
        batch_size: int = 25,
        force_logon: bool = False,
        install: str = "crm",
        seed: int = 11,
        scale: float = 1.0,
        hidden: tuple[str, ...] = (),
        transient_failures: int = 0,
    ) -> None:
        self.users = users or {"admin": "s3cret"}
        self.batch_size = batch_size
        self.force_logon = force_logon
        self.install = install
        self.entities: dict[str, Entity] = build(seed, scale)
        self.hidden = {h.lower() for h in hidden}  # entities not allowed for web services
        self.transient_failures = transient_failures  # next N requests answer 503
        self.sessions: dict[str, str] = {}  # session id → user
        self.open_query: dict[str, dict] = {}
        self.calls: list[tuple[str, str | None]] = []
        self.queries: list[tuple[str, str]] = []  # (entity, where) as received
        self.lock = threading.Lock()

    # ---- serving ------------------------------------------------------------------------

    def handler(self) -> type[QuietHandler]:
        fake = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:
                if fake._transient():
                    return self.send(503, b"busy", "text/plain")
                path = urlsplit(self.path).path
                if path.endswith("/webservice.wsdl"):
                    text = WSDL.read_text(encoding="utf-8").replace(
                        "{SOAP_ADDRESS}", f"{fake.url}/{fake.install}/eware.dll/webservices/soap"
                    )
                    return self.send(200, text.encode(), "text/xml")
                status, payload = fake.rest(self.path, self.headers.get("Authorization", ""))
                self.send(status, json.dumps(payload).encode(), "application/json")

            def do_POST(self) -> None:
                body = self.body()
                if fake._transient():
                    return self.send(503, b"busy", "text/plain")
                status, xml = fake.soap(body)
                self.send(status, xml.encode(), "text/xml; charset=utf-8")

        return Handler

    def _transient(self) -> bool:
        with self.lock:
            if self.transient_failures > 0:
                self.transient_failures -= 1
                return True
        return False

    # ---- SOAP ---------------------------------------------------------------------------

    def soap(self, body: bytes) -> tuple[int, str]:
        try:
            envelope = ET.fromstring(body)  # noqa: S314 - our own tests' traffic, on loopback
            header = envelope.find(f"{{{SOAP_NS}}}Header")
            session = None
            if header is not None:
                node = header.find(f"{{{T}}}SessionHeader/{{{T}}}sessionId")
                session = node.text if node is not None else None
            soap_body = envelope.find(f"{{{SOAP_NS}}}Body")
            if soap_body is None:
                raise ValueError("a SOAP envelope without a Body")
            op = next(iter(soap_body))
            name = op.tag.split("}")[-1]
            args = {child.tag.split("}")[-1]: (child.text or "") for child in op}
            with self.lock:
                self.calls.append((name, session))
                result = self._operate(name, args, session)
            return 200, _envelope(
                f'<t:{name}response xmlns:t="{T}"><t:result>{result}</t:result></t:{name}response>'
            )
        except SoapFault as fault:
            return 500, _envelope(
                f"<soap:Fault><faultcode>soap:Server</faultcode><faultstring>"
                f"{_esc(str(fault))}</faultstring></soap:Fault>"
            )

    def _operate(self, name: str, args: dict[str, str], session: str | None) -> str:
        if name == "logon":
            user, password = args.get("username", ""), args.get("password", "")
            if self.users.get(user) != password:
                raise SoapFault("Logon failed: invalid user name or password")
            open_sessions = [s for s, u in self.sessions.items() if u == user]
            if open_sessions and not self.force_logon:
                raise SoapFault(
                    f"User {user} already has a web service session. Only one web "
                    "service session is allowed per user."
                )
            for stale in open_sessions:
                self.sessions.pop(stale)
                self.open_query.pop(stale, None)
            sid = uuid.uuid4().hex
            self.sessions[sid] = user
            return f"<t:sessionid>{sid}</t:sessionid>"
        if session not in self.sessions:
            raise SoapFault("Invalid session ID: log on first")
        if name != "nextqueryrecord":
            self.open_query.pop(session, None)  # any other call closes the open query
        if name == "logoff":
            self.sessions.pop(session, None)
            return "<t:success>true</t:success>"
        if name == "getversionstring":
            return "Sage CRM 2024 R1 (fake)"
        if name in ("getmetadata", "getallmetadata"):
            wanted = (
                [self._entity(args["entityname"])]
                if name == "getmetadata"
                else [e for k, e in self.entities.items() if k not in self.hidden]
            )
            return "".join(f"<t:records>{_metadata_xml(e)}</t:records>" for e in wanted)
        if name in ("queryrecord", "query"):
            entity = self._entity(args.get("entityname", ""))
            rows = _select(entity, args.get("queryString", ""), "sql")
            order = (args.get("orderby") or "").strip()
            if order:
                column = order.split()[0].lower()
                if column not in entity.fields:
                    raise SoapFault(f"Invalid column name '{order}'")
                rows.sort(key=lambda r: (r.get(column) is None, r.get(column)))
            fields = _fieldlist(entity, args.get("fieldlist", "*"))
            self.queries.append((entity.name, args.get("queryString", "")))
            self.open_query[session] = {"entity": entity, "rows": rows, "at": 0, "fields": fields}
            return self._batch(session)
        if name == "nextqueryrecord":
            if session not in self.open_query:
                raise SoapFault("No query is open: nextqueryrecord follows queryrecord")
            return self._batch(session)
        if name == "queryid":
            entity = self._entity(args.get("entityname", ""))
            rows = _select(entity, args.get("queryString", ""), "sql")
            p = entity.prefix
            return (
                "".join(
                    f"<t:records><t:id>{r[entity.idfield]}</t:id><t:createddate>"
                    f"{_iso(r[p + '_createddate'])}</t:createddate><t:updateddate>"
                    f"{_iso(r[p + '_updateddate'])}</t:updateddate><t:action>"
                    f"{'deleted' if r.get(p + '_deleted') else 'updated'}</t:action></t:records>"
                    for r in rows
                )
                + "<t:more>false</t:more>"
            )
        raise SoapFault(f"Operation {name} is not supported by this fake")

    def _batch(self, session: str) -> str:
        q = self.open_query[session]
        chunk = q["rows"][q["at"] : q["at"] + self.batch_size]
        q["at"] += len(chunk)
        more = q["at"] < len(q["rows"])
        if not more:
            self.open_query.pop(session, None)
        entity: Entity = q["entity"]
        out = []
        for row in chunk:
            fields = "".join(
                f"<t:records><t:name>{c}</t:name><t:type>"
                f"{RECORD_TYPES.get(entity.fields[c], 'string')}</t:type>"
                + (f"<t:value>{_esc(_text(row[c]))}</t:value>" if row.get(c) is not None else "")
                + "</t:records>"
                for c in q["fields"]
            )
            out.append(
                f"<t:records><t:entityname>{entity.name.lower()}</t:entityname>{fields}</t:records>"
            )
        return "".join(out) + f"<t:more>{'true' if more else 'false'}</t:more>"

    def _entity(self, name: str) -> Entity:
        entity = self.entities.get(name.lower())
        if entity is None or name.lower() in self.hidden:
            raise SoapFault(
                f"Entity {name} is not available for web services (check its "
                "'Allow Web Service Access' setting)"
            )
        return entity

    # ---- REST ---------------------------------------------------------------------------

    def rest(self, raw_path: str, auth: str) -> tuple[int, Any]:
        parts = urlsplit(raw_path)
        prefix = f"/sdata/{self.install}j/sagecrm2/-/"
        expected = (
            "Basic "
            + base64.b64encode(
                f"{next(iter(self.users))}:{next(iter(self.users.values()))}".encode()
            ).decode()
        )
        if auth != expected:
            return 401, {"$diagnoses": [{"$message": "Authentication failed"}]}
        if not parts.path.startswith(prefix):
            return 404, {"$diagnoses": [{"$message": "Not found"}]}
        resource = parts.path[len(prefix) :]
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        self.calls.append((f"GET {resource}", None))
        if resource == "$prototypes":
            return 200, {
                "$resources": [
                    {"$key": e.name, "$title": e.name}
                    for k, e in self.entities.items()
                    if k not in self.hidden
                ]
            }
        if resource.startswith("$prototypes/"):
            entity = self.entities.get(resource.split("/", 1)[1].lower())
            if entity is None:
                return 404, {"$diagnoses": [{"$message": "Unknown entity"}]}
            return 200, json.loads(_metadata_json(entity))
        entity = self.entities.get(resource.lower())
        if entity is None or resource.lower() in self.hidden:
            return 404, {"$diagnoses": [{"$message": f"Resource {resource} not found"}]}
        try:
            rows = _select(entity, query.get("where", ""), "sdata")
        except SoapFault as exc:
            return 400, {"$diagnoses": [{"$message": str(exc)}]}
        self.queries.append((entity.name, query.get("where", "")))
        start = int(query.get("startIndex", 1))
        count = int(query.get("count", 100))
        page = rows[start - 1 : start - 1 + count]
        return 200, {
            "$totalResults": len(rows),
            "$startIndex": start,
            "$itemsPerPage": len(page),
            "$resources": [
                {
                    "$key": str(r[entity.idfield]),
                    "$title": str(r[entity.idfield]),
                    **{c: _json(entity.fields[c], r[c]) for c in entity.fields},
                }
                for r in page
            ],
        }


# ---- helpers ----------------------------------------------------------------------------


def _envelope(inner: str) -> str:
    return (
        f'<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="{SOAP_NS}">'
        f"<soap:Body>{inner}</soap:Body></soap:Envelope>"
    )


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _text(value: Any) -> str:
    return str(value)


def _iso(value: str) -> str:
    return value.replace(" ", "T")


def _json(kind: str, value: Any) -> Any:
    if value is None:
        return None
    if kind in ("Date & Time", "Date Only"):
        return _iso(str(value))
    return value


def _metadata_xml(entity: Entity) -> str:
    fields = "".join(
        f"<t:fields><t:name>{c}</t:name><t:type>{_esc(k)}</t:type><t:caption>{c}</t:caption>"
        + (f"<t:lookupentity>{entity.lookups[c]}</t:lookupentity>" if c in entity.lookups else "")
        + "</t:fields>"
        for c, k in entity.fields.items()
    )
    return (
        f"<t:entityname>{entity.name}</t:entityname><t:prefix>{entity.prefix}</t:prefix>"
        f"<t:idfield>{entity.idfield}</t:idfield><t:custom>"
        f"{'true' if entity.custom else 'false'}</t:custom>{fields}"
    )


def _metadata_json(entity: Entity) -> str:
    return json.dumps(
        {
            "$key": entity.name,
            "prefix": entity.prefix,
            "idfield": entity.idfield,
            "custom": entity.custom,
            "fields": [
                {"name": c, "type": k, "lookupentity": entity.lookups.get(c)}
                for c, k in entity.fields.items()
            ],
        }
    )


def _fieldlist(entity: Entity, text: str) -> list[str]:
    text = (text or "").strip()
    if text in ("", "*"):
        return list(entity.fields)
    columns = [c.strip().lower() for c in text.split(",")]
    for c in columns:
        if c not in entity.fields:
            raise SoapFault(f"Invalid column name '{c}'")
    return columns


# A small WHERE-clause evaluator: enough SQL (SOAP queryString) and SData (REST where=) for
# what a tap sends, strict enough that a quote in a value changes the query if not escaped.
_TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<date>@[^@]*@)|(?P<num>-?\d+(?:\.\d+)?)"
    r"|(?P<op><=|>=|<>|!=|=|<|>|\(|\)|,)|(?P<word>[A-Za-z_][A-Za-z0-9_.]*))"
)
_SQL_OPS = {"=": "eq", "<>": "ne", "!=": "ne", "<": "lt", "<=": "le", ">": "gt", ">=": "ge"}


def _tokens(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if not m:
            raise SoapFault(f"Incorrect syntax near '{text[pos : pos + 10]}'")
        kind = m.lastgroup or ""
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


def _select(entity: Entity, where: str, dialect: str) -> list[dict]:
    tokens = _tokens(where or "")
    if not tokens:
        return list(entity.rows)
    parser = _Parser(tokens, entity, dialect)
    test = parser.expr()
    if parser.pos != len(tokens):
        raise SoapFault(f"Incorrect syntax near '{tokens[parser.pos][1]}'")
    return [r for r in entity.rows if test(r)]


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]], entity: Entity, dialect: str) -> None:
        self.t, self.pos, self.entity, self.dialect = tokens, 0, entity, dialect

    def peek(self) -> tuple[str, str]:
        return self.t[self.pos] if self.pos < len(self.t) else ("", "")

    def take(self) -> tuple[str, str]:
        tok = self.peek()
        self.pos += 1
        return tok

    def expr(self):
        left = self.conj()
        while self.peek()[1].lower() == "or":
            self.take()
            right = self.conj()
            left = (lambda a, b: lambda r: a(r) or b(r))(left, right)
        return left

    def conj(self):
        left = self.unary()
        while self.peek()[1].lower() == "and":
            self.take()
            right = self.unary()
            left = (lambda a, b: lambda r: a(r) and b(r))(left, right)
        return left

    def unary(self):
        if self.peek()[1].lower() == "not":
            self.take()
            inner = self.unary()
            return lambda r: not inner(r)
        if self.peek()[1] == "(":
            self.take()
            inner = self.expr()
            if self.take()[1] != ")":
                raise SoapFault("Incorrect syntax: missing ')'")
            return inner
        return self.comparison()

    def literal(self) -> Any:
        kind, text = self.take()
        if kind == "str":
            return text[1:-1].replace("''", "'")
        if kind == "num":
            return float(text) if "." in text else int(text)
        if kind == "date" and self.dialect == "sdata":
            return text[1:-1].replace("T", " ")
        raise SoapFault(f"Incorrect syntax near '{text}'")

    def comparison(self):
        if self.peek()[0] in ("str", "num"):
            # literal = literal is valid SQL ('1'='1'): what an unescaped quote lets in
            left = self.literal()
            op = _SQL_OPS.get(self.take()[1], "?")
            right = self.literal()
            outcome = {"eq": left == right, "ne": left != right}.get(op, False)
            return lambda r: outcome
        kind, column = self.take()
        column = column.lower()
        if kind != "word" or column not in self.entity.fields:
            raise SoapFault(f"Invalid column name '{column}'")
        kind, op = self.take()
        op = op.lower()
        if op == "is":
            if self.dialect == "sdata":
                raise SoapFault("Filtering on null is not supported")
            negate = self.peek()[1].lower() == "not"
            if negate:
                self.take()
            if self.take()[1].lower() != "null":
                raise SoapFault("Incorrect syntax near 'is'")
            return lambda r: (r.get(column) is None) != negate
        if op == "in":
            if self.take()[1] != "(":
                raise SoapFault("Incorrect syntax near 'in'")
            values = [self.literal()]
            while self.peek()[1] == ",":
                self.take()
                values.append(self.literal())
            self.take()
            return lambda r: _cmp(r.get(column)) in {_cmp(v) for v in values}
        name = _SQL_OPS.get(op, op) if self.dialect == "sql" else op
        if name not in ("eq", "ne", "lt", "le", "gt", "ge", "like"):
            raise SoapFault(f"Incorrect syntax near '{op}'")
        value = self.literal()
        if name == "like":
            pattern = re.compile("^" + re.escape(str(value)).replace("%", ".*") + "$", re.I)
            return lambda r: r.get(column) is not None and bool(pattern.match(str(r[column])))

        def test(r: dict) -> bool:
            have = r.get(column)
            if have is None:
                return False
            a, b = _cmp(have), _cmp(value)
            if isinstance(a, (int, float)) != isinstance(b, (int, float)):
                a, b = str(a), str(b)  # SQL Server would convert; text comparison suffices here
            return {
                "eq": a == b,
                "ne": a != b,
                "lt": a < b,
                "le": a <= b,
                "gt": a > b,
                "ge": a >= b,
            }[name]

        return test


def _cmp(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value
