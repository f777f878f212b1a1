"""The load order: parents first, self-references and object cycles deferred and reported."""

from __future__ import annotations

from target_twenty.order import load_order
from target_twenty.plan import FieldPlan, ObjectPlan


def plan(name: str, **relations: str) -> ObjectPlan:
    """An object whose properties ``prop=target`` are relations matched by id."""
    fields = {
        prop: FieldPlan(prop, prop, "RELATION", prop, None, {}, target=target, match="id")
        for prop, target in relations.items()
    }
    return ObjectPlan(name, name, f"{name}s", name, f"{name}s", None, {}, False, ["id"], fields)


def test_parents_first_in_waves_by_name_and_a_self_reference_waits() -> None:
    plans = {
        "opportunity": plan("opportunity", companyId="company", pointOfContactId="person"),
        "person": plan("person", companyId="company"),
        "company": plan("company", parentCompanyId="company"),
        "tag": plan("tag"),
        "missing": plan("missing", somethingId="notLoaded"),  # a target outside the run
    }
    order = load_order(plans)
    assert order.objects == ["company", "missing", "tag", "person", "opportunity"]
    assert order.deferred == [("company", "parentCompanyId")]
    assert order.cycles == []
    assert [f.prop for p in plans.values() for f in p.fields.values() if f.deferred] == [
        "parentCompanyId"
    ]


def test_each_object_cycle_is_reported_and_broken_at_its_first_object_by_name() -> None:
    plans = {
        "zone": plan("zone", managerId="member"),
        "member": plan("member", teamId="team"),
        "team": plan("team", zoneId="zone"),
        "pet": plan("pet", ownerId="owner", zoneId="zone"),
        "owner": plan("owner", petId="pet"),
        "report": plan("report", ownerId="owner"),
    }
    order = load_order(plans)
    assert sorted(order.cycles) == [["member", "team", "zone"], ["owner", "pet"]]
    assert sorted(order.deferred) == [("member", "teamId"), ("owner", "petId")]
    # every relation left in one pass points at an object loaded before
    position = {name: i for i, name in enumerate(order.objects)}
    assert sorted(position) == sorted(plans)
    for name, p in plans.items():
        for f in p.fields.values():
            assert f.deferred or position[f.target or ""] < position[name], (name, f.prop)
