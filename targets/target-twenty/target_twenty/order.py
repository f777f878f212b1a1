"""Load order from the relation graph: parents before the records that point at them.

Company before person before opportunity; custom objects after their targets. A relation to
the object itself (parent company) cannot be satisfied in one pass, and neither can a cycle
between objects: those relations are deferred to a second pass, after every record exists,
and the cycles are reported. This is where the load order is decided (the writers follow it).

Not graphlib: its TopologicalSorter refuses a graph with a cycle before sorting anything, while a
cycle here is broken where it blocks (at its first object, by name), after everything that can
go first has gone; graphlib could only be used once every cycle is known, which is this loop.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from target_twenty.plan import FieldPlan, ObjectPlan


@dataclass
class LoadOrder:
    objects: list[str]
    deferred: list[tuple[str, str]] = field(default_factory=list)  # (object, property)
    cycles: list[list[str]] = field(default_factory=list)


def load_order(plans: dict[str, ObjectPlan]) -> LoadOrder:
    deps: dict[str, dict[str, list[FieldPlan]]] = {name: {} for name in plans}
    order = LoadOrder(objects=[])
    for name, plan in plans.items():
        for fp in plan.relations():
            if fp.target == name:
                fp.deferred = True
                order.deferred.append((name, fp.prop))
            elif fp.target in plans:
                deps[name].setdefault(fp.target, []).append(fp)
    remaining = dict(sorted(deps.items()))
    while remaining:
        ready = [n for n, d in remaining.items() if not (set(d) & set(remaining))]
        if not ready:
            cycle = _find_cycle(remaining)
            order.cycles.append(cycle)
            # Break the cycle at its first object: its relations into the cycle wait.
            head = cycle[0]
            for target in list(remaining[head]):
                if target in cycle:
                    for fp in remaining[head].pop(target):
                        fp.deferred = True
                        order.deferred.append((head, fp.prop))
            continue
        for name in ready:
            order.objects.append(name)
            del remaining[name]
    return order


def _find_cycle(graph: dict[str, dict[str, list]]) -> list[str]:
    start = next(iter(graph))
    seen: list[str] = []
    node = start
    while node not in seen:
        seen.append(node)
        node = next(t for t in graph[node] if t in graph)
    return seen[seen.index(node) :]
