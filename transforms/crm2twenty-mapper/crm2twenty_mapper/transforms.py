"""Value transforms named in the rules files (``transforms: [trim, email]``).

A transform takes a value and returns the new value. ``None`` means "empty". A value that cannot be
made valid raises :class:`InvalidValue`; the field's ``on_invalid`` decides whether the record is
rejected or the field is left empty and the original value listed as a repair.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit

import phonenumbers
from crm2twenty_common.twenty import email_address, web_url

from crm2twenty_mapper.lookup_table import LookupTable
from crm2twenty_mapper.memo import GenerationalMemo
from crm2twenty_mapper.richtext import html_to_markdown

# phonenumbers compiles its metadata's patterns through re.compile on every use, and the re
# module's cache lookup was a tenth of the time spent parsing numbers: the library's own
# pattern cache keeps each compiled pattern (a few hundred, bounded by the metadata).
phonenumbers.enable_pattern_cache()


class InvalidValue(ValueError):
    """A source value a transform cannot turn into a valid Twenty value.

    ``value``: the text to keep verbatim beside the field (its ``<field>Raw``), when the
    transform knows which part of its input was refused (one number of several); else the
    field's source value is kept. ``partial``: what the transform could still make of the rest
    (the valid numbers of a list), written to the field as usual.
    """

    def __init__(self, message: str, value: str | None = None, partial: Any = None) -> None:
        super().__init__(message)
        self.value = value
        self.partial = partial


@dataclass(frozen=True)
class Context:
    """Defaults a rules file sets for every transform (``defaults:``)."""

    currency: str = "USD"
    # the country a national-format number is read in when neither its row nor its company
    # names one (None: such a number is kept verbatim in the field's `<field>Raw`)
    phone_country: str | None = "US"
    timezone: str = "UTC"
    dayfirst: bool = False
    # Lookup tables filled from source streams as they pass (``lookups:`` in the rules).
    tables: dict[str, LookupTable] = field(default_factory=dict, compare=False)


Transform = Callable[[Any], Any]

_LIST_SPLIT = re.compile(r"[;,\n]")
_MULTI_SPACE = re.compile(r"[ \t]+")


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def trim(value: Any) -> Any:
    if isinstance(value, str):
        value = _MULTI_SPACE.sub(" ", value.strip())
        return value or None
    return value


def lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def upper(value: Any) -> Any:
    return value.upper() if isinstance(value, str) else value


def email(value: Any) -> str | None:
    """An e-mail address as Twenty stores it (crm2twenty_common.twenty's check)."""
    text = _text(value)
    if text is None:
        return None
    address = email_address(text)
    if address is None:
        raise InvalidValue(f"{value!r} is not a valid e-mail address", value=text)
    return address


def emails(value: Any) -> list[str] | None:
    """A list of addresses from a list or a ``;``/``,``-separated text; one that is not an
    address is left out and named (the valid rest still written)."""
    items = value if isinstance(value, list) else _LIST_SPLIT.split(str(value or ""))
    result: list[str] = []
    refused: list[InvalidValue] = []
    for item in items:
        try:
            address = email(item)
        except InvalidValue as exc:
            refused.append(exc)
            continue
        if address:
            result.append(address)
    if refused:
        raise InvalidValue(
            str(refused[0]),
            value="; ".join(e.value or "" for e in refused),
            partial=result or None,
        )
    return result or None


def url(value: Any) -> str | None:
    """One canonical web address (crm2twenty_common.twenty's check and normal form)."""
    text = _text(value)
    if text is None:
        return None
    normal = web_url(text)
    if normal is None:
        raise InvalidValue(f"{value!r} is not a valid URL")
    return normal


def domain(value: Any) -> str | None:
    """The host of a URL, without ``www.``: what makes two company websites the same company."""
    normal = url(value)
    if normal is None:
        return None
    host = urlsplit(normal).hostname or ""
    return host[4:] if host.startswith("www.") else host


# English names of the countries a CRM export most often carries (ISO 3166 alpha-2 codes are
# read as such); an unknown name falls back to the rules' default phone country.
COUNTRIES = {
    "united states": "US",
    "usa": "US",
    "united states of america": "US",
    "us": "US",
    "united kingdom": "GB",
    "uk": "GB",
    "great britain": "GB",
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "ireland": "IE",
    "france": "FR",
    "germany": "DE",
    "deutschland": "DE",
    "spain": "ES",
    "españa": "ES",
    "italy": "IT",
    "portugal": "PT",
    "netherlands": "NL",
    "the netherlands": "NL",
    "belgium": "BE",
    "luxembourg": "LU",
    "switzerland": "CH",
    "austria": "AT",
    "denmark": "DK",
    "sweden": "SE",
    "norway": "NO",
    "finland": "FI",
    "iceland": "IS",
    "poland": "PL",
    "czech republic": "CZ",
    "czechia": "CZ",
    "hungary": "HU",
    "romania": "RO",
    "greece": "GR",
    "turkey": "TR",
    "türkiye": "TR",
    "canada": "CA",
    "mexico": "MX",
    "brazil": "BR",
    "argentina": "AR",
    "chile": "CL",
    "colombia": "CO",
    "australia": "AU",
    "new zealand": "NZ",
    "japan": "JP",
    "china": "CN",
    "india": "IN",
    "singapore": "SG",
    "hong kong": "HK",
    "south korea": "KR",
    "israel": "IL",
    "united arab emirates": "AE",
    "uae": "AE",
    "south africa": "ZA",
    "nigeria": "NG",
    "kenya": "KE",
    "egypt": "EG",
    "morocco": "MA",
}


def region_for(country: Any, default: str | None) -> str | None:
    """A phone region from an ISO code or an English country name; ``default`` when there is
    no country or it is not one this knows."""
    return _region(country) or default


def default_country(setting: str) -> str | None:
    """The mapper's ``default_country`` setting → a phone region (``none``: no default)."""
    if setting.strip().lower() == "none":
        return None
    region = _region(setting)
    if region is None:
        raise ValueError(
            f"default_country {setting!r} is neither an ISO 3166 code nor a country name "
            "this mapper knows (e.g. GB, United Kingdom, or none)"
        )
    return region


def _region(country: Any) -> str | None:
    text = _text(country)
    return None if text is None else _region_of(text)


@functools.lru_cache(maxsize=1024)  # a column of country names holds few distinct ones
def _region_of(text: str) -> str | None:
    if len(text) == 2 and text.upper() in phonenumbers.SUPPORTED_REGIONS:
        return text.upper()
    return COUNTRIES.get(text.lower())


def _read_phone(text: str, region: str | None) -> tuple[str, str, str] | str:
    """``text`` read in ``region`` → (national number, its country, calling code), or why it
    is not a phone number Twenty takes (a text, so that a refusal is remembered too).

    The country is the number's own: a number written with its calling code (``+44 …``) is
    read without ``region``, and its country is never one of another calling code (Twenty
    refuses ``Provided country code and calling code are conflicting``,
    docs/twenty-contract.md §7).
    """
    international = text.startswith("+")
    if not international and region is None:
        return f"{text!r} has no calling code and there is no country to read it in"
    try:
        parsed = phonenumbers.parse(text, None if international else region)
    except phonenumbers.NumberParseException as exc:
        return f"{text!r} is not a phone number ({exc})"
    if not phonenumbers.is_possible_number(parsed):
        where = "" if international else f" in {region}"
        return f"{text!r} is not a possible phone number{where}"
    code = parsed.country_code or 0
    found = phonenumbers.region_code_for_number(parsed)
    if not found:
        # A number the metadata does not know as valid (a reserved range such as +44 7700
        # 900xxx): the country it was read in if that country has this calling code, else
        # the calling code's main country.
        found = (
            region
            if region and phonenumbers.country_code_for_region(region) == code
            else phonenumbers.region_code_for_country_code(code)
        )
    if found not in phonenumbers.SUPPORTED_REGIONS:  # "001": +800 and other global numbers
        return f"{text!r} has the calling code +{code} of no country"
    return str(parsed.national_number), found, _calling_code(code)


@functools.lru_cache(maxsize=1024)  # one text per calling code, not one per remembered number
def _calling_code(code: int) -> str:
    return f"+{code}"


# A pure function of its arguments, so remembered: the same number recurs across rows (a
# company's switchboard on each contact), but too seldom for the field memo, which gives up on
# a field whose values mostly differ. Bounded (memo.py): the numbers that recur within the last
# 16-32 k distinct ones keep their hits, and the memo stops growing after ~50 k records.
_parse_phone = GenerationalMemo(_read_phone, generation=1 << 14)


@dataclass(slots=True)  # (not frozen: a frozen dataclass is several times slower to make)
class _PhoneInput:
    numbers: list[str]
    region: str | None  # the country a national-format number is read in


def _phone_input(value: Any, ctx: Context, company_table: LookupTable | None) -> _PhoneInput:
    """A number, ``[number, …, country]`` (``from_all``: the row's country comes last) or,
    with ``company_country``, ``[number, …, country, company key]`` (a number list may stand
    for the numbers). The region: the row's own country, else its company's (from the lookup
    table the companies stream filled), else the default country."""
    company = None
    if isinstance(value, list):
        items = list(value)
        if company_table is not None and items:
            company = items.pop()
        country = items.pop() if len(items) >= 2 else None
    else:
        items, country = [value], None
    numbers: list[str] = []
    for item in items:
        for one in item if isinstance(item, list) else [item]:
            text = _text(one)
            if text is not None:
                numbers.append(text)
    region = _region(country)
    if region is None and company_table is not None and (key := _text(company)) is not None:
        region = _region(company_table.get(key))
    return _PhoneInput(numbers, region or ctx.phone_country)


def _phone_parts(text: str, region: str | None) -> tuple[str, str, str]:
    parsed = _parse_phone(text, region)
    if isinstance(parsed, str):
        raise InvalidValue(parsed, value=text)
    return parsed


def make_phone(ctx: Context, company_country: str | None = None) -> Transform:
    """A number, or ``[number, …, country]``: the first number the row has (a contact with only
    a mobile keeps it as the primary phone). Its country: its own calling code (``+44 …`` is
    GB), else the row's country (``020 7946 0958`` with ``United Kingdom``), else, with
    ``company_country: <lookup table>``, the country of the row's company (the list's last
    element is then the company's key), else the default country (``defaults.phone_country``,
    or the mapper's ``default_country`` setting)."""
    table = ctx.tables.setdefault(company_country, LookupTable()) if company_country else None

    def phone(value: Any) -> dict | None:
        given = _phone_input(value, ctx, table)
        if not given.numbers:
            return None
        national, found, calling = _phone_parts(given.numbers[0], given.region)
        return {
            "primaryPhoneNumber": national,
            "primaryPhoneCountryCode": found,
            "primaryPhoneCallingCode": calling,
        }

    return phone


def _additional(numbers: list[str], region: str | None) -> list[dict] | None:
    """Twenty's ``additionalPhones`` items; a number that is not one is left out and named
    (InvalidValue with the valid rest as ``partial``)."""
    result, refused, why = [], [], ""
    for text in numbers:
        parsed = _parse_phone(text, region)
        if isinstance(parsed, str):
            refused.append(text)
            why = why or parsed
            continue
        result.append({"number": parsed[0], "countryCode": parsed[1], "callingCode": parsed[2]})
    if refused:
        raise InvalidValue(why, value="; ".join(refused), partial=result or None)
    return result or None


def make_additional_phones(ctx: Context, company_country: str | None = None) -> Transform:
    """Numbers (one, a list, or ``[numbers, country]``) → Twenty's ``additionalPhones`` items."""
    table = ctx.tables.setdefault(company_country, LookupTable()) if company_country else None

    def additional_phones(value: Any) -> list[dict] | None:
        # [numbers, country] from `from_all`; a country never has digits, a number always does
        if (
            isinstance(value, list)
            and len(value) == 2
            and table is None
            and (value[1] is None or not any(c.isdigit() for c in str(value[1])))
        ):
            given = _phone_input([value[0], value[1]], ctx, None)
        elif isinstance(value, list) and table is None:
            given = _phone_input([value, None], ctx, None)
        else:
            given = _phone_input(value, ctx, table)
        return _additional(given.numbers, given.region)

    return additional_phones


def make_more_phones(ctx: Context, company_country: str | None = None) -> Transform:
    """``[number, …, country]`` → every number after the first the row has, as
    ``additionalPhones`` items (the first is the primary phone: ``phone`` on the same list);
    ``company_country`` as for ``phone``."""
    table = ctx.tables.setdefault(company_country, LookupTable()) if company_country else None

    def more_phones(value: Any) -> list[dict] | None:
        given = _phone_input(value, ctx, table)
        return _additional(given.numbers[1:], given.region) if len(given.numbers) > 1 else None

    return more_phones


def split_name(value: Any) -> dict | None:
    """``"Ana Ruiz"`` → first ``Ana``, last ``Ruiz``; ``"Ruiz, Ana"`` → the same."""
    text = _text(value)
    if text is None:
        return None
    if "," in text:
        last, _, first = text.partition(",")
        return {"firstName": first.strip(), "lastName": last.strip()}
    first, _, last = text.rpartition(" ")
    if not first:
        return {"firstName": last, "lastName": ""}
    return {"firstName": first.strip(), "lastName": last}


def person_name(values: Any) -> dict | None:
    """From ``[first, last, full]``: first/last when either is set, else ``full`` split."""
    first, last, full = ([*list(values), None, None, None])[:3]
    first, last = _text(first), _text(last)
    if first or last:
        return {"firstName": first or "", "lastName": last or ""}
    return split_name(full)


def join_name(values: Any) -> str | None:
    """From ``[first, last, full]``: one display name."""
    first, last, full = ([*list(values), None, None, None])[:3]
    joined = " ".join(p for p in (_text(first), _text(last)) if p)
    return joined or _text(full)


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# What the taps write for a UTC date-time (singer-sdk's isoformat): its UTC text is the same
# digits, so only its validity needs parsing.
_ISO_UTC = re.compile(r"[1-9]\d{3}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00")


def _parse_when(value: Any, formats: list[str], dayfirst: bool) -> dt.datetime | dt.date:
    """ISO, the rule's strptime ``formats``, else ``d/m/yyyy [h:mm[:ss]]`` in the rule's order.
    Not dateutil's parser: it swaps day and month when the declared order cannot hold
    (``02/13/2024`` with ``dayfirst``), fills missing parts from today, and costs about 18 times
    this regex per value on the mapper's hot path."""
    if isinstance(value, dt.datetime | dt.date):
        return value
    text = _text(value)
    assert text is not None
    if _ISO_DATE.match(text):
        return dt.date.fromisoformat(text)
    iso = text[:-1] + "+00:00" if text.endswith("Z") else text
    try:
        return dt.datetime.fromisoformat(iso)
    except ValueError:
        pass
    for fmt in formats:
        try:
            return dt.datetime.strptime(text, fmt)
        except ValueError:
            continue
    slashed = re.match(
        r"^(\d{1,2})[/.](\d{1,2})[/.](\d{4})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$", text
    )
    if slashed:
        a, b, year = int(slashed[1]), int(slashed[2]), int(slashed[3])
        day, month = (a, b) if dayfirst else (b, a)
        try:
            if slashed[4]:
                return dt.datetime(
                    year, month, day, int(slashed[4]), int(slashed[5]), int(slashed[6] or 0)
                )
            return dt.date(year, month, day)
        except ValueError:
            pass
    raise InvalidValue(f"{value!r} is not a date this rule can read")


def make_date(
    ctx: Context, formats: list[str] | None = None, dayfirst: bool | None = None
) -> Transform:
    fmts = list(formats or [])
    first = ctx.dayfirst if dayfirst is None else dayfirst

    def date(value: Any) -> str | None:
        if _text(value) is None:
            return None
        when = _parse_when(value, fmts, first)
        return (when.date() if isinstance(when, dt.datetime) else when).isoformat()

    return date


def make_datetime(
    ctx: Context, formats: list[str] | None = None, dayfirst: bool | None = None
) -> Transform:
    fmts = list(formats or [])
    first = ctx.dayfirst if dayfirst is None else dayfirst
    zone = _zone(ctx.timezone)

    def datetime(value: Any) -> str | None:
        if type(value) is str and _ISO_UTC.fullmatch(value):
            try:
                dt.datetime.fromisoformat(value)  # the date must exist
            except ValueError:
                pass  # the general path below names the error
            else:
                return value[:19] + ".000Z"
        if _text(value) is None:
            return None
        when = _parse_when(value, fmts, first)
        if not isinstance(when, dt.datetime):
            when = dt.datetime(when.year, when.month, when.day)
        if when.tzinfo is None:
            if zone is dt.timezone.utc and when.year >= 1000:
                # already UTC wall time: isoformat is the same text, several times faster
                return when.isoformat(timespec="milliseconds") + "Z"
            when = when.replace(tzinfo=zone)
        when = when.astimezone(dt.timezone.utc)
        if when.year >= 1000:
            # the same text as the strftime below (isoformat truncates to milliseconds too),
            # less its "+00:00", at about half the cost; strftime pads a year < 1000 otherwise
            return when.isoformat(timespec="milliseconds")[:-6] + "Z"
        return when.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"

    return datetime


def _zone(name: str) -> dt.tzinfo:
    if name.upper() == "UTC":
        return dt.timezone.utc
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)


def _decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise InvalidValue(f"{value!r} is not a number")
    if isinstance(value, int | float | Decimal):
        return Decimal(str(value))
    text = str(value).strip().replace("\u00a0", "").replace(" ", "")
    text = re.sub(r"^[^\d\-+.,]+|[^\d.,]+$", "", text)  # currency symbols and units
    if text.count(",") and text.count("."):
        # "1,234.50" or "1.234,50": the last separator is the decimal point
        text = (
            text.replace(",", "")
            if text.rfind(".") > text.rfind(",")
            else (text.replace(".", "").replace(",", "."))
        )
    elif text.count(",") == 1 and len(text.split(",")[1]) != 3:
        text = text.replace(",", ".")
    else:
        text = text.replace(",", "")
    try:
        return Decimal(text)
    except InvalidOperation as exc:
        raise InvalidValue(f"{value!r} is not a number") from exc


def number(value: Any) -> float | int | None:
    d = _decimal(value)
    if d is None:
        return None
    return int(d) if d == d.to_integral_value() else float(d)


def integer(value: Any) -> int | None:
    d = _decimal(value)
    if d is None:
        return None
    if d != d.to_integral_value():
        raise InvalidValue(f"{value!r} is not a whole number")
    return int(d)


def micros(value: Any) -> int | None:
    """An amount in units → Twenty's ``amountMicros`` (× 1,000,000, exact)."""
    d = _decimal(value)
    return None if d is None else int((d * 1_000_000).to_integral_value())


_TRUE = {"true", "t", "yes", "y", "1", "on", "x"}
_FALSE = {"false", "f", "no", "n", "0", "off", ""}


def boolean(value: Any) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False if text else None
    raise InvalidValue(f"{value!r} is not a yes/no value")


def split(value: Any) -> list[str] | None:
    if value is None:
        return None
    items = value if isinstance(value, list) else _LIST_SPLIT.split(str(value))
    result = [str(i).strip() for i in items if str(i).strip()]
    return result or None


def duration_minutes(values: Any) -> float | None:
    """From ``[start, end]`` date-times: the minutes between them (a call's duration)."""
    start, end = ([*(values if isinstance(values, list) else [values]), None, None])[:2]
    if _text(start) is None or _text(end) is None:
        return None
    a, b = _parse_when(start, [], False), _parse_when(end, [], False)
    if not isinstance(a, dt.datetime) or not isinstance(b, dt.datetime):
        return None
    if (a.tzinfo is None) != (b.tzinfo is None):
        a, b = a.replace(tzinfo=None), b.replace(tzinfo=None)
    return round((b - a).total_seconds() / 60, 2)


def first(value: Any) -> Any:
    """The first element of a list (the primary e-mail of several)."""
    if isinstance(value, list):
        return next((v for v in value if v not in (None, "")), None)
    return value


def rest(value: Any) -> list | None:
    """Every element but the first (the additional e-mails)."""
    if not isinstance(value, list):
        return None
    items = [v for v in value if v not in (None, "")]
    return items[1:] or None


def markdown(value: Any) -> str | None:
    text = _text(value)
    if text is None:
        return None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def first_line(value: Any) -> str | None:
    """The first non-empty line, trimmed (a note's title when the source has none)."""
    text = _text(value)
    if text is None:
        return None
    return next((line.strip() for line in text.splitlines() if line.strip()), None)


_CATEGORIES = (
    ("ARCHIVE", ("zip", "rar", "7z", "tar", "gz", "tgz"), ("application/zip", "application/x-")),
    ("AUDIO", ("mp3", "wav", "ogg", "m4a", "flac"), ("audio/",)),
    (
        "IMAGE",
        ("png", "jpg", "jpeg", "gif", "bmp", "svg", "webp", "tif", "tiff", "heic"),
        ("image/",),
    ),
    (
        "PRESENTATION",
        ("ppt", "pptx", "key", "odp"),
        (
            "application/vnd.ms-powerpoint",
            "application/vnd.openxmlformats-officedocument.presentationml",
        ),
    ),
    (
        "SPREADSHEET",
        ("xls", "xlsx", "csv", "ods", "numbers"),
        (
            "text/csv",
            "application/vnd.ms-excel",
            "application/vnd.openxmlformats-officedocument.spreadsheetml",
        ),
    ),
    ("VIDEO", ("mp4", "mov", "avi", "mkv", "webm"), ("video/",)),
    (
        "TEXT_DOCUMENT",
        ("pdf", "doc", "docx", "txt", "rtf", "odt", "md", "html", "htm"),
        (
            "text/",
            "application/pdf",
            "application/msword",
            "application/vnd.openxmlformats-officedocument.wordprocessingml",
        ),
    ),
)


def file_category(values: Any) -> str:
    """From ``[mime type, file name]``: Twenty's attachment ``fileCategory`` option."""
    mime, name = ([*(values if isinstance(values, list) else [values]), None, None])[:2]
    mime = (mime or "").lower()
    ext = (name or "").rsplit(".", 1)[-1].lower() if name and "." in name else ""
    for category, exts, mimes in _CATEGORIES:
        if ext in exts or any(mime.startswith(m) for m in mimes):
            return category
    return "OTHER"


def make_lookup(ctx: Context, table: str, key: str = "{value}", missing: str = "keep") -> Transform:
    """Translate a value through a lookup table (Sage CRM's captions: ``oppo_stage`` code →
    its label). ``key`` builds the table key from the value; ``missing`` says what an absent
    key gives: ``keep`` the value, ``null``, or a template such as ``name:{value}``."""
    rows = ctx.tables.setdefault(table, LookupTable())

    def lookup(value: Any) -> Any:
        text = _text(value)
        if text is None:
            return None
        found = rows.get(key.format(value=text))
        if found is None:
            if missing == "keep":
                return text
            return None if missing == "null" else missing.format(value=text)
        return found

    return lookup


# name -> (factory taking ctx and the transform's arguments) ; plain functions ignore ctx.
def _plain(fn: Transform) -> Callable[..., Transform]:
    return lambda _ctx, **_kw: fn


REGISTRY: dict[str, Callable[..., Transform]] = {
    "trim": _plain(trim),
    "lower": _plain(lower),
    "upper": _plain(upper),
    "email": _plain(email),
    "emails": _plain(emails),
    "url": _plain(url),
    "domain": _plain(domain),
    "phone": make_phone,
    "additional_phones": make_additional_phones,
    "more_phones": make_more_phones,
    "split_name": _plain(split_name),
    "person_name": _plain(person_name),
    "join_name": _plain(join_name),
    "date": make_date,
    "datetime": make_datetime,
    "number": _plain(number),
    "integer": _plain(integer),
    "micros": _plain(micros),
    "boolean": _plain(boolean),
    "split": _plain(split),
    "markdown": _plain(markdown),
    "html_to_markdown": _plain(html_to_markdown),
    "first_line": _plain(first_line),
    "first": _plain(first),
    "duration_minutes": _plain(duration_minutes),
    "rest": _plain(rest),
    "file_category": _plain(file_category),
    "lookup": make_lookup,
}

# What Twenty type a field most likely is when its last transform is this one (used when a
# rule gives no explicit ``type``).
TYPE_HINTS = {
    "number": "NUMBER",
    "integer": "NUMBER",
    "duration_minutes": "NUMBER",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "datetime": "DATE_TIME",
    "phone": "PHONES",
    "split_name": "FULL_NAME",
    "person_name": "FULL_NAME",
    "markdown": "TEXT",
    "html_to_markdown": "TEXT",
    "first_line": "TEXT",
}


def build(name: str, ctx: Context, args: dict | None = None) -> Transform:
    """The callable for transform ``name`` with its arguments (raises KeyError if unknown)."""
    return REGISTRY[name](ctx, **(args or {}))
