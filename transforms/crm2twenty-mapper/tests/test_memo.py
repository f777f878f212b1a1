"""The bounded memo the phone transforms read numbers through (memo.py)."""

from __future__ import annotations

from crm2twenty_mapper.memo import GenerationalMemo


def _counting() -> tuple[GenerationalMemo[str, str], list[tuple[str, str]]]:
    calls: list[tuple[str, str]] = []

    def fn(text: str, kind: str) -> str:
        calls.append((text, kind))
        return f"{kind}:{text}"

    return GenerationalMemo(fn, generation=2), calls


def test_remembers_per_text_and_kind() -> None:
    memo, calls = _counting()
    assert memo("1", "GB") == "GB:1"
    assert memo("1", "US") == "US:1"
    assert memo("1", "GB") == "GB:1"
    assert calls == [("1", "GB"), ("1", "US")]


def test_never_holds_more_than_two_generations() -> None:
    memo, calls = _counting()
    for n in range(10):
        memo(str(n), "GB")
    assert len(memo) <= 4
    memo("0", "GB")  # long dropped: computed again
    assert calls.count(("0", "GB")) == 2


def test_an_entry_used_again_survives_the_generation_change() -> None:
    memo, calls = _counting()
    memo("a", "GB")
    memo("b", "GB")  # newer generation full
    memo("c", "GB")  # a, b become the older one
    memo("a", "GB")  # a hit in the older one: moved to the newer one
    memo("d", "GB")  # the newer one (c, a) becomes the older: b is dropped
    memo("e", "GB")
    memo("a", "GB")
    memo("b", "GB")
    assert calls.count(("a", "GB")) == 1
    assert calls.count(("b", "GB")) == 2
