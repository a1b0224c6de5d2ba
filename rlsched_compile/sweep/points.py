"""Target points of a sweep: each base target with one combination of parameter values, derived
in the target's dict form and validated by the normal target loader."""
from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from typing import Any, Sequence

from ..errors import RlschedError, TargetError
from ..targets import target_from_dict
from ..targets.model import Target
from ..targets.schema import LEVEL_ROLES, SPATIAL_ROLES
from .spec import TOP_LEVEL, Parameter, SweepSpec, combinations


@dataclass(frozen=True)
class TargetPoint:
    """One target of the sweep.

    Attributes:
        index: position in the sweep's point order.
        base: the base target's name.
        values: the parameter values, in parameter order.
        target: the derived target, or None when it is invalid.
        error: why the derived target is invalid (None when valid).
    """

    index: int
    base: str
    values: tuple[Any, ...]
    target: Target | None
    error: str | None


def cell(value: Any) -> str:
    """A parameter value as text (results columns, target names): strings as they are, other
    values as JSON (``null``, ``true``, ``[weight]`` as ``["weight"]``)."""
    if isinstance(value, str):
        return value
    if isinstance(value, float):
        return repr(value)
    return json.dumps(value, separators=(",", ":"))


def point_label(params: Sequence[Parameter], values: Sequence[Any]) -> str:
    """``name=value,name=value`` (empty when nothing is varied)."""
    return ",".join(f"{p.name}={cell(v)}" for p, v in zip(params, values))


def derive_target(base: Target, params: Sequence[Parameter], values: Sequence[Any]) -> Target:
    """The base target with each parameter's field set to its value.

    The change is made on :meth:`Target.to_dict` (levels innermost first) and the result goes
    through :func:`~rlsched_compile.targets.target_from_dict`, so an invalid combination gets
    the loader's own message. A spatial level the base lacks starts as 1 x 1 (an absent array,
    spec Q19). The derived target is named ``base~name=value,...``.

    Raises:
        TargetError: the derived target is invalid.
        RlschedError: the base has no such temporal level.
    """
    d = copy.deepcopy(base.to_dict())
    if params:
        d["name"] = f"{base.name}~{point_label(params, values)}"
    levels: list[dict[str, Any]] = d["levels"]
    for p, v in zip(params, values):
        if p.level == TOP_LEVEL:
            d[p.field] = copy.deepcopy(v)
            continue
        lv = next((x for x in levels if x["level"] == p.level), None)
        if lv is None:
            if p.level not in SPATIAL_ROLES:
                raise RlschedError(f"target {base.name} has no {p.level} level for parameter {p.name} to set")
            lv = {"level": p.level, "type": "spatial", "x": 1, "y": 1}
            levels.append(lv)
            levels.sort(key=lambda x: LEVEL_ROLES.index(x["level"]))
        node = lv
        *parents, leaf = p.field.split(".")
        for part in parents:
            if not isinstance(node.get(part), dict):
                node[part] = {}
            node = node[part]
        node[leaf] = copy.deepcopy(v)
    label = point_label(params, values) or base.name
    try:
        return target_from_dict(d, source=f"point {base.name}[{label}]")
    except TargetError as exc:
        # paths index the derived dict's levels (innermost first): name them by role instead
        roles = [lv.get("level") for lv in levels]
        text = re.sub(r"\blevels\[(\d+)\]", lambda m: str(roles[int(m.group(1))]) if int(m.group(1)) < len(roles)
                      else m.group(0), str(exc))
        raise TargetError(text) from None


def expand_points(spec: SweepSpec) -> list[TargetPoint]:
    """Every target point of the sweep, in order (base targets, then the product of values in
    file order), invalid ones included with their error."""
    out: list[TargetPoint] = []
    for i, (base, values) in enumerate(combinations(spec)):
        try:
            tgt: Target | None = derive_target(base, spec.parameters, values)
            err = None
        except RlschedError as exc:
            tgt, err = None, str(exc).splitlines()[0]
        out.append(TargetPoint(index=i, base=base.name, values=values, target=tgt, error=err))
    return out
