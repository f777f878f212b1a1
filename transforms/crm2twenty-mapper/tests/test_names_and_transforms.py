"""Naming rules and value transforms: each case is a value Twenty would refuse if wrong."""

from __future__ import annotations

import pytest
from crm2twenty_common.twenty import NAME_PATTERN as FIELD_NAME
from crm2twenty_common.twenty import OPTION_VALUE_PATTERN as OPTION_VALUE
from crm2twenty_common.twenty import camel_case, label_case, option_value
from crm2twenty_mapper import transforms as tf
from crm2twenty_mapper.lookup_table import LookupTable

CTX = tf.Context(phone_country="US", timezone="UTC")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Favourite Colour", "favouriteColour"),
        ("company_id", "companyId"),
        ("Company ID", "companyId"),
        ("2nd phone", "field2ndPhone"),
        ("type", "typeCustom"),  # reserved by Twenty: its own suffix
        ("Ünïcödé", "unicode"),  # accents folded, still valid
    ],
)
def test_camel_case_gives_valid_twenty_names(text: str, expected: str) -> None:
    assert camel_case(text) == expected
    assert FIELD_NAME.match(camel_case(text))


def test_camel_case_of_nothing_is_still_a_valid_stable_name() -> None:
    name = camel_case("!!!")
    assert FIELD_NAME.match(name)
    assert camel_case("!!!") == name
    assert len(camel_case("x" * 200)) == 63


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Closed Won", "CLOSED_WON"),
        ("closed-won", "CLOSED_WON"),
        ("2024 Q1", "OPT_2024_Q1"),
        ("in-negociation", "IN_NEGOCIATION"),
        ("gold", "GOLD"),
        ("Négociation", "NEGOCIATION"),
    ],
)
def test_option_values_match_the_stricter_measured_pattern(text: str, expected: str) -> None:
    assert option_value(text) == expected
    assert OPTION_VALUE.match(option_value(text))


def test_option_value_without_letters_is_hashed_not_empty() -> None:
    assert OPTION_VALUE.match(option_value("???"))
    assert option_value("???") != option_value("!!!")


def test_label_case() -> None:
    assert label_case("favourite_colour") == "Favourite Colour"
    assert label_case("allegoryUpdatedAt") == "Allegory Updated At"
    assert label_case("Négociation client") == "Négociation Client"  # labels keep accents


def test_email_lowercases_and_refuses_garbage() -> None:
    assert tf.email("  Ana.Ruiz@Example.COM ") == "ana.ruiz@example.com"
    assert tf.email("mailto:bob@x.io") == "bob@x.io"
    for bad in ("bob@", "no-at-sign.com", "a b@c.com", "x@y"):
        with pytest.raises(tf.InvalidValue):
            tf.email(bad)


def test_emails_splits_and_validates_every_item() -> None:
    assert tf.emails("a@x.com; B@Y.org") == ["a@x.com", "b@y.org"]
    with pytest.raises(tf.InvalidValue):
        tf.emails("a@x.com; broken")


def test_url_normalises_and_domain_strips_www() -> None:
    assert tf.url("WWW.Acme.com/") == "https://www.acme.com"
    assert tf.url("http://acme.com/about") == "http://acme.com/about"
    assert tf.domain("https://www.Acme.com/x") == "acme.com"
    with pytest.raises(tf.InvalidValue):
        tf.url("not a url")


@pytest.mark.parametrize(
    ("raw", "number", "country", "calling"),
    [
        ("+44 20 7946 0958", "2079460958", "GB", "+44"),
        ("(555) 123-4567", "5551234567", "US", "+1"),
        ("+33 6 12 34 56 78", "612345678", "FR", "+33"),
    ],
)
def test_phone_splits_number_country_and_calling_code(raw, number, country, calling) -> None:
    parsed = tf.make_phone(CTX)(raw)
    assert parsed == {
        "primaryPhoneNumber": number,
        "primaryPhoneCountryCode": country,
        "primaryPhoneCallingCode": calling,
    }


def test_phone_refuses_text() -> None:
    with pytest.raises(tf.InvalidValue):
        tf.make_phone(CTX)("call reception")


def test_person_name_prefers_first_last_then_splits_full() -> None:
    assert tf.person_name(["Ana", "Ruiz", "ignored"]) == {"firstName": "Ana", "lastName": "Ruiz"}
    assert tf.person_name([None, "", "José Ñúñez García"]) == {
        "firstName": "José Ñúñez",
        "lastName": "García",
    }
    assert tf.person_name([None, None, "Ruiz, Ana"]) == {"firstName": "Ana", "lastName": "Ruiz"}
    assert tf.person_name([None, None, None]) is None


def test_datetime_converts_offsets_and_day_first_dates_to_utc() -> None:
    to_utc = tf.make_datetime(CTX)
    assert to_utc("2020-01-02T03:04:05+02:00") == "2020-01-02T01:04:05.000Z"
    assert to_utc("2021-03-04") == "2021-03-04T00:00:00.000Z"
    assert tf.make_datetime(CTX, dayfirst=True)("31/12/2024") == "2024-12-31T00:00:00.000Z"
    assert tf.make_datetime(CTX)("12/31/2024 14:05") == "2024-12-31T14:05:00.000Z"
    assert tf.make_datetime(CTX, formats=["%d %b %Y"])("05 Mar 2022") == "2022-03-05T00:00:00.000Z"
    with pytest.raises(tf.InvalidValue):
        to_utc("next tuesday")


def test_datetime_uses_the_rules_timezone_for_naive_times() -> None:
    paris = tf.make_datetime(tf.Context(timezone="Europe/Paris"))
    assert paris("2024-07-01T12:00:00") == "2024-07-01T10:00:00.000Z"


def test_money_is_exact_in_micros_and_reads_local_formats() -> None:
    assert tf.micros("1234.56") == 1_234_560_000
    assert tf.micros(0.1) == 100_000
    assert tf.number("1.234,50 €") == 1234.5
    assert tf.number("$1,234.50") == 1234.5
    assert tf.integer("12") == 12
    with pytest.raises(tf.InvalidValue):
        tf.integer("12.5")
    with pytest.raises(tf.InvalidValue):
        tf.number("twelve")


def test_boolean_and_file_category() -> None:
    assert tf.boolean("Yes") is True
    assert tf.boolean("0") is False
    with pytest.raises(tf.InvalidValue):
        tf.boolean("maybe")
    assert tf.file_category(["application/pdf", "x.pdf"]) == "TEXT_DOCUMENT"
    assert tf.file_category([None, "photo.JPG"]) == "IMAGE"
    assert tf.file_category(["application/octet-stream", "blob.bin"]) == "OTHER"


def test_national_numbers_are_read_in_the_rows_country() -> None:
    phone = tf.make_phone(CTX)
    assert phone(["020 7946 0958", "United Kingdom"])["primaryPhoneCallingCode"] == "+44"
    assert phone(["06 12 34 56 78", "FR"])["primaryPhoneCountryCode"] == "FR"
    assert phone(["+49 30 901820", "France"])["primaryPhoneCountryCode"] == "DE"  # + wins
    with pytest.raises(tf.InvalidValue, match="in US"):
        phone(["020 7946 0958", "Atlantis"])  # unknown country: the default region
    extra = tf.make_additional_phones(CTX)
    assert extra(["07700 900123", "United Kingdom"]) == [
        {"number": "7700900123", "countryCode": "GB", "callingCode": "+44"}
    ]
    assert len(extra(["+44 7700 900123", "+33 6 12 34 56 78"])) == 2


def test_duration_minutes_between_two_date_times() -> None:
    fn = tf.build("duration_minutes", tf.Context(), None)
    assert fn(["2024-01-01T10:00:00Z", "2024-01-01T11:30:00Z"]) == 90
    assert fn(["2024-01-01 10:00", "2024-01-01T10:00:30+00:00"]) == 0.5  # naive vs aware
    assert fn(["2024-01-01T10:00:00Z", None]) is None
    with pytest.raises(tf.InvalidValue, match="not a date"):  # listed as a repair, not guessed
        fn(["2024-01-01", "not a date"])


def test_datetime_utc_fast_path_agrees_with_the_general_path() -> None:
    """The taps' UTC text ('…+00:00') skips parsing into a datetime; it must give the same text,
    in any rules timezone, and still refuse a date that does not exist."""
    for zone in ("UTC", "Europe/Paris"):
        to_utc = tf.make_datetime(tf.Context(timezone=zone))
        assert to_utc("2022-10-03T15:30:05+00:00") == "2022-10-03T15:30:05.000Z"
        # the same instant by the general path (an offset that is not +00:00)
        assert to_utc("2022-10-03T17:30:05+02:00") == "2022-10-03T15:30:05.000Z"
        with pytest.raises(tf.InvalidValue, match="not a date"):
            to_utc("2022-02-30T15:30:05+00:00")


def test_the_first_number_a_row_has_is_the_primary_phone() -> None:
    """[phone, mobile, country]: a mobile-only contact keeps its mobile as the primary phone,
    and a contact with both has the mobile in additionalPhones."""
    phone, more = tf.make_phone(CTX), tf.make_more_phones(CTX)
    uk = "United Kingdom"
    assert phone([None, "07700 900123", uk]) == {
        "primaryPhoneNumber": "7700900123",
        "primaryPhoneCountryCode": "GB",
        "primaryPhoneCallingCode": "+44",
    }
    assert more([None, "07700 900123", uk]) is None
    assert phone(["020 7946 0000", "07700 900123", uk])["primaryPhoneNumber"] == "2079460000"
    assert more(["020 7946 0000", "07700 900123", uk]) == [
        {"number": "7700900123", "countryCode": "GB", "callingCode": "+44"}
    ]
    assert phone([None, "", uk]) is None and more([None, "", uk]) is None


# ---- a phone's country: its own calling code, the row's, the company's, the default ---------


def test_a_number_with_its_calling_code_takes_that_codes_country_whatever_the_default() -> None:
    """`+44 7700 900123` (a range the metadata does not know as valid) is GB with +44, never
    the default US with +44, which Twenty refuses (docs/twenty-contract.md §7)."""
    for ctx in (CTX, tf.Context(phone_country="FR"), tf.Context(phone_country=None)):
        assert tf.make_phone(ctx)("+44 7700 900123") == {
            "primaryPhoneNumber": "7700900123",
            "primaryPhoneCountryCode": "GB",
            "primaryPhoneCallingCode": "+44",
        }
    # a national number read in a country that shares the calling code keeps that country
    jersey = tf.make_phone(tf.Context(phone_country="JE"))("07700 900123")
    assert (jersey["primaryPhoneCountryCode"], jersey["primaryPhoneCallingCode"]) == ("JE", "+44")


def test_the_country_chain_row_then_company_then_default() -> None:
    ctx = tf.Context(phone_country=None)
    table = ctx.tables["company_country"] = LookupTable()
    table.put("31", "United Kingdom")
    table.put("7", "France")
    phone = tf.make_phone(ctx, company_country="company_country")
    more = tf.make_more_phones(ctx, company_country="company_country")
    # the row's own country first
    assert phone(["06 12 34 56 78", None, "FR", "31"])["primaryPhoneCountryCode"] == "FR"
    # none on the row: its company's (the list's last element is the company key)
    assert phone(["07700 900123", None, None, "31"])["primaryPhoneCountryCode"] == "GB"
    assert more(["07700 900123", "020 7946 0000", None, "31"]) == [
        {"number": "2079460000", "countryCode": "GB", "callingCode": "+44"}
    ]
    # a number list (Atomic's phones) with the company key
    assert phone([["01 23 45 67 89"], "7"])["primaryPhoneCallingCode"] == "+33"
    # no row country, unknown company, no default: not guessed, refused with the number kept
    with pytest.raises(tf.InvalidValue) as refused:
        phone(["07700 900123", None, None, "99"])
    assert refused.value.value == "07700 900123"
    assert "no calling code and there is no country" in str(refused.value)
    # the default country comes last
    gb = tf.Context(phone_country="GB")
    assert tf.make_phone(gb)("07700 900123")["primaryPhoneCallingCode"] == "+44"


def test_default_country_setting_reads_codes_and_names() -> None:
    assert tf.default_country("gb") == "GB"
    assert tf.default_country("United Kingdom") == "GB"
    assert tf.default_country("none") is None
    with pytest.raises(ValueError, match="Atlantis"):
        tf.default_country("Atlantis")


def test_an_unparsable_number_among_several_is_named_and_the_rest_kept() -> None:
    more = tf.make_more_phones(CTX)
    with pytest.raises(tf.InvalidValue) as refused:
        more(["+1 415 555 0101", "ext. 12", "+44 20 7946 0000", None])
    assert refused.value.value == "ext. 12"
    assert refused.value.partial == [
        {"number": "2079460000", "countryCode": "GB", "callingCode": "+44"}
    ]
    with pytest.raises(tf.InvalidValue) as bad:
        tf.emails("ana@acme.example; not-an-address")
    assert (bad.value.value, bad.value.partial) == ("not-an-address", ["ana@acme.example"])
