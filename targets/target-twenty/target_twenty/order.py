"""Load order from the relation graph: parents before the records that point at them.

Company before person before opportunity; custom objects after their targets. A relation to
the object itself (parent company) cannot be satisfied in one pass, and neither can a cycle
between objects: those relations are deferred to a second pass, after every record exists,
and the cycles are reported. This is where the load order is decided (the writers follow it).

The sort is stdlib ``graphlib``'s. Its ``CycleError`` names one cycle before anything is sorted:
that cycle is reported and broken at its first object by name (whose relations into the cycle
wait), and the graph is sorted again until no cycle is left. Objects come in waves, each by name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from graphlib import CycleError, TopologicalSorter
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from target_twenty.plan import FieldPlan, ObjectPlan


@dataclass
class LoadOrder:
    objects: list[str]
    deferred: list[tuple[str, str]] = field(default_factory=list)  # (object, property)
    # each object of a cycle points at the next, the last at the first
    cycles: list[list[str]] = field(default_factory=list)


def load_order(plans: dict[str, ObjectPlan]) -> LoadOrder:
    deps: dict[str, dict[str, list[FieldPlan]]] = {name: {} for name in sorted(plans)}
    order = LoadOrder(objects=[])
    for name, plan in plans.items():
        for fp in plan.relations():
            if fp.target == name:
                fp.deferred = True
                order.deferred.append((name, fp.prop))
            elif fp.target in plans:
                deps[name].setdefault(fp.target, []).append(fp)
    while True:
        sorter = TopologicalSorter({name: set(targets) for name, targets in deps.items()})
        try:
            sorter.prepare()
            break
        except CycleError as err:
            # graphlib lists each object before the one pointing at it, the first one again last
            cycle = list(reversed(err.args[1][1:]))
            head = cycle.index(min(cycle))
            cycle = cycle[head:] + cycle[:head]
            order.cycles.append(cycle)
            for target in cycle[1:]:  # the first object's relations into the cycle wait
                for fp in deps[cycle[0]].pop(target, []):
                    fp.deferred = True
                    order.deferred.append((cycle[0], fp.prop))
    while sorter.is_active():
        ready = sorted(sorter.get_ready())
        order.objects.extend(ready)
        sorter.done(*ready)
    return order
