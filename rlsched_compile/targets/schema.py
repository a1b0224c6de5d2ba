"""The target schema ``rlsched-target-v1`` declared as data, and its validator.

Step 2 of the loader's three steps (raw YAML/JSON -> *validated dict* -> frozen
:class:`~rlsched_compile.targets.model.Target`). Every key of the schema
(``../shared/spec/cost-model.md`` §1) is declared once below with its type, unit, default and
meaning; :func:`validate` checks a raw document against these tables, collects **every**
problem (with its dotted path, e.g. ``levels[1].capacity_bytes.input``) and returns a
normalised dict: levels innermost first, defaults filled in, bypass lists in I, W, O order.

Level order: documents with ``version: 1`` (the shipped ``accelerators/*.yaml`` files) list
their levels **outermost first** (DRAM first, as Timeloop architecture files read top-down);
documents without ``version`` (the spec's JSON form, golden-vector targets,
:meth:`Target.to_dict`) list them innermost first, as the spec says.
"""
from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass
from typing import Any, Mapping

from .model import DATA_TYPES, STATIONARY

logger = logging.getLogger(__name__)

#: Value of the ``schema`` key of a per-layer target.
SCHEMA_ID = "rlsched-target-v1"
#: Value of the ``schema`` key of a pipeline (multi-chip segment) target, read elsewhere.
PIPELINE_SCHEMA_ID = "rlsched-pipeline-v1"
#: Accepted values of the optional ``version`` key (document format version).
VERSIONS: tuple[int, ...] = (1,)

#: Level roles, innermost first (spec §1.2).
LEVEL_ROLES: tuple[str, ...] = ("mac_array", "local_buffer", "pe_array", "global_buffer",
                                "chip_array", "dram")
SPATIAL_ROLES: frozenset[str] = frozenset({"mac_array", "pe_array", "chip_array"})
TEMPORAL_ROLES: frozenset[str] = frozenset({"local_buffer", "global_buffer", "dram"})
#: Roles every target must have (spec Q2).
MANDATORY_ROLES: tuple[str, ...] = ("local_buffer", "dram")
#: Scheduling-table columns (same order as :data:`rlsched_compile.layer.PARAMS`).
COLUMNS: tuple[str, ...] = ("K", "B", "P", "Q", "C", "R", "S", "G")
DATAFLOWS: tuple[str, ...] = ("IS", "WS", "OS")

#: Inclusive bounds of every number in a target, by key (any level). Far outside any real chip, they
#: keep every quantity the cost model forms finite and in range: counts and tiles stay inside int64
#: (layers are bounded by a volume < 2^52), and energies/cycles stay below ~1e80, far from double
#: overflow (1.8e308), so no figure can come out negative, NaN or infinite.
LIMITS: dict[str, tuple[float, float]] = {
    "precision_bits": (8, 4096),              # bit
    "frequency_mhz": (1e-3, 1e9),             # MHz: 1 kHz .. 1 PHz (the clock period stays finite)
    "mac_energy_pj": (0.0, 1e9),              # pJ per MAC
    "mac_static_power_mw": (0.0, 1e9),        # mW per MAC unit
    "x": (1, 1 << 20),                        # units per array axis
    "y": (1, 1 << 20),
    "access_energy_pj": (0.0, 1e9),           # pJ per element access
    "static_power_mw": (0.0, 1e9),            # mW per instance
    "access_cycles": (0.0, 1e9),              # cycles per beat
    "bandwidth_bits_per_cycle": (1, 1 << 40),  # bit/cycle
    "capacity_bytes": (0, 1 << 60),           # byte
    "fixed_mapping": (0, 1 << 52),            # loop factor
    # vector unit (upper bounds in VECTOR_UNIT_MAX): a subnormal rate would make cycles infinite
    "ops_per_cycle": (1e-6, math.inf),        # element operations per cycle
    "energy_per_op_pj": (0.0, math.inf),      # pJ per element operation
}
#: Most MAC units of a target: the product of the MAC-, PE- and chip-array sizes (x * y each). It
#: bounds the instance counts the static energy multiplies by.
MAX_MAC_UNITS: int = 1 << 48


@dataclass(frozen=True)
class Key:
    """One declared key of the schema.

    Attributes:
        name: the key as written in the file.
        kind: value type: ``int``, ``real``, ``str``, ``notes``, ``levels``, ``dataflow``,
            ``capacity``, ``per_type``, ``types``, ``columns``, ``mapping8``, ``role`` or
            ``vector_unit``; the pipeline schema (:mod:`rlsched_compile.targets.pipeline`) adds
            ``section`` and its number kinds (``positive_real``, ``nonnegative_real``, ``ratio``,
            ``positive_int``).
        unit: unit of the value (``""`` when it has none).
        required: whether the key must be present.
        default: value used when an optional key is absent.
        doc: one-line meaning.
    """

    name: str
    kind: str
    unit: str
    required: bool
    default: Any
    doc: str


def key_table(*keys: Key) -> dict[str, Key]:
    """A declared key table: the keys by name, in the order given (messages list them so)."""
    return {k.name: k for k in keys}


#: Top-level keys.
TOP_KEYS: dict[str, Key] = key_table(
    Key("version", "int", "", False, None,
        "document format version; 1 means levels are listed outermost first"),
    Key("schema", "str", "", True, None, f'schema identifier, "{SCHEMA_ID}"'),
    Key("name", "str", "", True, None, "target name (variants: base~modifier)"),
    Key("precision_bits", "int", "bit", True, None,
        "width of one data element; a positive multiple of 8 (spec Q16)"),
    Key("frequency_mhz", "real", "MHz", True, None, "clock frequency (static energy only)"),
    Key("mac_energy_pj", "real", "pJ per MAC", True, None, "dynamic energy of one MAC operation"),
    Key("mac_static_power_mw", "real", "mW per MAC unit", False, 0.0, "leakage of one MAC unit"),
    Key("levels", "levels", "", True, None, "hardware levels (see LEVEL_ROLES)"),
    Key("source", "str", "", False, None, "where the values come from (informational)"),
    Key("notes", "notes", "", False, (), "free-text notes (a string or a list of strings)"),
    Key("vector_unit", "vector_unit", "", False, None,
        "optional {ops_per_cycle, energy_per_op_pj}: the unit that runs the operators between "
        "layers (see VECTOR_UNIT_KEYS; absent: the defaults there)"),
)

#: Keys of the optional ``vector_unit`` section: the unit that runs the operators between the
#: scheduled layers (pooling, activations, softmax, normalisation, ...; see
#: :mod:`rlsched_compile.operators`). Absent keys take the documented defaults, which are
#: derived from the rest of the target (``default`` is None here for that reason).
VECTOR_UNIT_KEYS: dict[str, Key] = key_table(
    Key("ops_per_cycle", "real", "vector ops per cycle", False, None,
        "element operations the unit completes per cycle (> 0); default: one per PE of every "
        "chip (pe_array x chip_array, 1 where absent)"),
    Key("energy_per_op_pj", "real", "pJ per vector op", False, None,
        "dynamic energy of one element operation (>= 0); default: mac_energy_pj"),
)

_ROLE = Key("level", "role", "", True, None, "level role: " + ", ".join(LEVEL_ROLES))
_TYPE = Key("type", "str", "", False, None, '"spatial" or "temporal"; must match the role')

#: Keys of a spatial level (``mac_array``, ``chip_array``).
SPATIAL_KEYS: dict[str, Key] = key_table(
    _ROLE, _TYPE,
    Key("x", "int", "units", True, None, "array size along X (row '(X)' product <= x)"),
    Key("y", "int", "units", True, None, "array size along Y (row '(Y)' product <= y)"),
)
#: Keys of the PE array: a spatial level that also honours column restrictions (spec Q21).
PE_ARRAY_KEYS: dict[str, Key] = {
    **SPATIAL_KEYS,
    **key_table(
        Key("allowed_x", "columns", "", False, None,
            "columns that may hold a factor > 1 in the PE(X) row (default: all)"),
        Key("allowed_y", "columns", "", False, None,
            "columns that may hold a factor > 1 in the PE(Y) row (default: all)"),
    ),
}

_COMMON_TEMPORAL = (
    Key("access_energy_pj", "per_type", "pJ per element access", True, None,
        "dynamic energy per element moved through this level (missing types = 0)"),
    Key("static_power_mw", "per_type", "mW per instance", False, None,
        "leakage of one instance of this level, per type (missing types = 0)"),
    Key("access_cycles", "per_type", "cycles per beat", False, None,
        "cycles per bandwidth-wide transfer beat, per type (missing types = 0)"),
    Key("bandwidth_bits_per_cycle", "int", "bit/cycle", True, None, "port width"),
    Key("fixed_mapping", "mapping8", "", False, None,
        "8 ints in K,B,P,Q,C,R,S,G order: entry != 0 forces this level's row entry"),
)
#: Keys of an on-chip buffer level (``local_buffer``, ``global_buffer``).
BUFFER_KEYS: dict[str, Key] = key_table(
    _ROLE, _TYPE,
    Key("dataflow", "dataflow", "", True, None,
        "stationary type held here: IS, WS, OS or null (no stationarity); a list such as [WS, OS] "
        "declares every dataflow the hardware supports (the first is used in fixed mode)"),
    Key("capacity_bytes", "capacity", "byte", True, None,
        "{input, weight, output} (separate), {shared} or {shared, dedicated: {type: bytes}}"),
    Key("bypass", "types", "", False, (),
        "types that do not occupy this buffer (their accesses are still charged, spec Q10)"),
    *_COMMON_TEMPORAL,
)
#: Keys of the DRAM level (capacity not modelled, spec Q22; no dataflow).
DRAM_KEYS: dict[str, Key] = key_table(
    _ROLE, _TYPE,
    Key("dataflow", "dataflow", "", False, None, "always null for DRAM (ignored)"),
    *_COMMON_TEMPORAL,
)

#: Declared keys per role.
ROLE_KEYS: dict[str, dict[str, Key]] = {
    "mac_array": SPATIAL_KEYS,
    "pe_array": PE_ARRAY_KEYS,
    "chip_array": SPATIAL_KEYS,
    "local_buffer": BUFFER_KEYS,
    "global_buffer": BUFFER_KEYS,
    "dram": DRAM_KEYS,
}

#: Why a key is refused at a role where it is not declared (added to the unknown-key message).
_REFUSED_HINTS: dict[tuple[str, str], str] = {
    ("dram", "capacity_bytes"): "DRAM capacity is not modelled (spec Q22)",
    ("dram", "bypass"): "DRAM cannot be bypassed",
    ("mac_array", "allowed_x"): "only pe_array honours allowed_x/allowed_y (spec Q21)",
    ("mac_array", "allowed_y"): "only pe_array honours allowed_x/allowed_y (spec Q21)",
    ("chip_array", "allowed_x"): "only pe_array honours allowed_x/allowed_y (spec Q21)",
    ("chip_array", "allowed_y"): "only pe_array honours allowed_x/allowed_y (spec Q21)",
}

_CAPACITY_KEYS: tuple[str, ...] = (*DATA_TYPES, "shared", "dedicated")


def show(value: Any) -> str:
    """Render a value for an error message, JSON-style and on one line."""
    try:
        text = json.dumps(value, ensure_ascii=False, default=repr)
    except (TypeError, ValueError):
        try:
            text = repr(value)
        except ValueError:  # an int too long to print (sys.get_int_max_str_digits)
            text = f"<{type(value).__name__} too large to print>"
    if len(text) > 60:
        text = text[:57] + "..."
    return text


class Problems:
    """Collects validation problems as ``path: message`` lines."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, path: str, message: str) -> None:
        self.items.append(f"{path}: {message}" if path else message)

    def __bool__(self) -> bool:
        return bool(self.items)


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_real(v: Any) -> bool:
    if not isinstance(v, (int, float)) or isinstance(v, bool):
        return False
    try:
        return math.isfinite(float(v))
    except OverflowError:  # an int beyond the double range
        return False


def _check_keys(raw: Mapping[str, Any], declared: Mapping[str, Key], path: str,
                problems: Problems, *, role: str | None = None) -> None:
    """Report unknown keys (listing the accepted ones) and missing required keys."""
    prefix = f"{path}." if path else ""
    accepted = ", ".join(declared)
    for k in raw:
        if k not in declared:
            hint = _REFUSED_HINTS.get((role or "", str(k)))
            reason = f" ({hint})" if hint else ""
            problems.add(f"{prefix}{k}", f"unknown key, accepted keys: {accepted}{reason}")
    for name, key in declared.items():
        if key.required and name not in raw:
            problems.add(f"{prefix}{name}", "required field is missing")


def _too_big(path: str, v: Any, maximum: float, problems: Problems) -> bool:
    """Report a value above its bound (see LIMITS); True when it was."""
    if v > maximum:
        shown = f"{maximum:g}" if isinstance(maximum, float) else f"{maximum} (2^{int(maximum).bit_length() - 1})"
        problems.add(path, f"must be <= {shown}, the schema's bound (got {show(v)})")
        return True
    return False


def _int(raw: Mapping[str, Any], name: str, path: str, problems: Problems, *,
         minimum: int) -> int | None:
    v = raw.get(name)
    if not _is_int(v):
        problems.add(path, f"must be an integer (got {show(v)})")
        return None
    if v < minimum:
        bound = "> 0" if minimum == 1 else f">= {minimum}"
        problems.add(path, f"must be {bound} (got {show(v)})")
        return None
    if _too_big(path, v, LIMITS[name][1], problems):
        return None
    return int(v)


def _real(v: Any, path: str, problems: Problems, *, key: str | None = None,
          positive: bool = False) -> float | None:
    """A finite number, > 0 when ``positive`` (else >= 0), within ``LIMITS[key]`` when ``key`` is
    given (callers without a key check their own bound)."""
    if not _is_real(v):
        problems.add(path, f"must be a finite number (got {show(v)})")
        return None
    lo, hi = LIMITS[key] if key is not None else (0.0, math.inf)
    if positive and v <= 0:
        problems.add(path, f"must be > 0 (got {show(v)})")
        return None
    if not positive and v < 0:
        problems.add(path, f"must be >= 0 (got {show(v)})")
        return None
    if v < lo:
        problems.add(path, f"must be >= {lo:g}, the schema's bound (got {show(v)})")
        return None
    if _too_big(path, float(v), hi, problems):
        return None
    return float(v)


def _str(v: Any, path: str, problems: Problems) -> str | None:
    if not isinstance(v, str) or not v.strip():
        problems.add(path, f"must be a non-empty string (got {show(v)})")
        return None
    return v


def _per_type(v: Any, path: str, problems: Problems, *, key: str) -> dict[str, float]:
    """A ``{input, weight, output}`` mapping of reals >= 0; missing entries are 0."""
    out = {t: 0.0 for t in DATA_TYPES}
    if not isinstance(v, Mapping):
        problems.add(path, "must be a mapping with keys input, weight, output "
                           f"(got {show(v)})")
        return out
    for k, x in v.items():
        if k not in DATA_TYPES:
            problems.add(f"{path}.{k}", "unknown key, accepted keys: " + ", ".join(DATA_TYPES))
            continue
        r = _real(x, f"{path}.{k}", problems, key=key)
        if r is not None:
            out[k] = r
    return out


def _type_list(v: Any, path: str, problems: Problems) -> tuple[str, ...]:
    """A list of distinct data types, returned in I, W, O order."""
    if not isinstance(v, list):
        problems.add(path, f"must be a list of data types (input, weight, output) (got {show(v)})")
        return ()
    seen: set[str] = set()
    for i, t in enumerate(v):
        if t not in DATA_TYPES:
            problems.add(f"{path}[{i}]", f"unknown data type {show(t)}, accepted: "
                         + ", ".join(DATA_TYPES))
        elif t in seen:
            problems.add(f"{path}[{i}]", f"{show(t)} is listed twice")
        else:
            seen.add(t)
    return tuple(t for t in DATA_TYPES if t in seen)


def _columns(v: Any, path: str, problems: Problems) -> tuple[str, ...] | None:
    if not isinstance(v, list):
        problems.add(path, f"must be a list of column letters {', '.join(COLUMNS)} "
                           f"(got {show(v)})")
        return None
    ok = True
    seen: set[str] = set()
    for i, c in enumerate(v):
        if c not in COLUMNS:
            problems.add(f"{path}[{i}]", f"unknown column {show(c)}, accepted: "
                         + ", ".join(COLUMNS))
            ok = False
        elif c in seen:
            problems.add(f"{path}[{i}]", f"column {show(c)} is listed twice")
            ok = False
        else:
            seen.add(c)
    return tuple(v) if ok else None


def _fixed_mapping(v: Any, path: str, problems: Problems) -> tuple[int, ...] | None:
    if (not isinstance(v, list) or len(v) != len(COLUMNS)
            or not all(_is_int(x) and x >= 0 for x in v)):
        problems.add(path, "must be a list of 8 non-negative integers in K,B,P,Q,C,R,S,G order "
                           f"(0 = free) (got {show(v)})")
        return None
    if any(_too_big(f"{path}[{i}]", x, LIMITS["fixed_mapping"][1], problems) for i, x in enumerate(v)):
        return None
    return tuple(int(x) for x in v)


def _capacity(v: Any, path: str, problems: Problems, *, role: str,
              bypass: tuple[str, ...]) -> dict[str, Any] | None:
    """Check ``capacity_bytes`` in one of its three forms; return it with its ``form``."""
    forms = ("{input, weight, output} (separate), {shared} or "
             "{shared, dedicated: {<type>: bytes}} (partially shared, global_buffer only)")
    if not isinstance(v, Mapping):
        problems.add(path, f"must be a mapping: {forms} (got {show(v)})")
        return None
    unknown = [k for k in v if k not in _CAPACITY_KEYS]
    for k in unknown:
        problems.add(f"{path}.{k}", "unknown key, accepted keys: " + ", ".join(_CAPACITY_KEYS))
    per_type = [k for k in DATA_TYPES if k in v]
    if per_type and ("shared" in v or "dedicated" in v):
        problems.add(path, f"mixes per-type and shared forms, use one of {forms}")
        return None
    if per_type or not ("shared" in v or "dedicated" in v):
        if unknown and not per_type:
            return None
        sizes: dict[str, int] = {}
        for t in DATA_TYPES:
            p = f"{path}.{t}"
            if t not in v:
                problems.add(p, "required field is missing (a separate capacity gives all three "
                                "types, or use {shared: bytes} for one shared buffer)")
                continue
            x = v[t]
            if not _is_int(x):
                problems.add(p, f"must be an integer (got {show(x)})")
            elif _too_big(p, x, LIMITS["capacity_bytes"][1], problems):
                pass
            elif x < 0 or (x == 0 and t not in bypass):
                extra = f", 0 is allowed only for a bypassed type ({t} is not bypassed here)" \
                    if x == 0 else ""
                problems.add(p, f"must be > 0 (got {show(x)}){extra}")
            else:
                sizes[t] = int(x)
        return {"form": "separate", **sizes} if len(sizes) == 3 else None
    out: dict[str, Any] = {"form": "shared"}
    if "shared" not in v:
        problems.add(f"{path}.shared", "required field is missing (dedicated needs a shared part)")
    else:
        s = v["shared"]
        if not _is_int(s):
            problems.add(f"{path}.shared", f"must be an integer (got {show(s)})")
        elif s <= 0:
            problems.add(f"{path}.shared", f"must be > 0 (got {show(s)})")
        elif not _too_big(f"{path}.shared", s, LIMITS["capacity_bytes"][1], problems):
            out["shared"] = int(s)
    if "dedicated" in v:
        out["form"] = "partially_shared"
        d = v["dedicated"]
        dp = f"{path}.dedicated"
        if role != "global_buffer":
            problems.add(dp, "a partially shared capacity is allowed only on global_buffer")
        elif not isinstance(d, Mapping) or len(d) != 1:
            problems.add(dp, "must be a mapping with exactly one data type, "
                             f"e.g. {{weight: 32768}} (got {show(d)})")
        else:
            (t, x), = d.items()
            first = bypass[0] if bypass else None
            if t not in DATA_TYPES:
                problems.add(f"{dp}.{t}", f"unknown data type, accepted: {', '.join(DATA_TYPES)}")
            elif first is None:
                problems.add(dp, f"dedicated capacity for {show(t)} needs that type in bypass")
            elif t != first:
                problems.add(dp, f"the dedicated type must be the first bypassed type "
                                 f"({first}) (got {show(t)})")
            if not _is_int(x):
                problems.add(f"{dp}.{t}", f"must be an integer (got {show(x)})")
            elif x <= 0:
                problems.add(f"{dp}.{t}", f"must be > 0 (got {show(x)})")
            elif _too_big(f"{dp}.{t}", x, LIMITS["capacity_bytes"][1], problems):
                pass
            elif t in DATA_TYPES and t == first:
                out["dedicated_type"] = t
                out["dedicated"] = int(x)
    complete = "shared" in out and (out["form"] == "shared" or "dedicated" in out)
    return out if complete else None


def _spatial_level(raw: Mapping[str, Any], path: str, role: str,
                   problems: Problems) -> dict[str, Any]:
    out: dict[str, Any] = {"level": role, "type": "spatial"}
    for axis in ("x", "y"):
        if axis in raw:
            out[axis] = _int(raw, axis, f"{path}.{axis}", problems, minimum=1)
    for key in ("allowed_x", "allowed_y"):
        if key in raw and role == "pe_array":
            out[key] = _columns(raw[key], f"{path}.{key}", problems)
    return out


def _dataflow_set(v: Any, path: str, problems: Problems) -> tuple[str, ...]:
    """A declared set of dataflows (``[WS, OS]``): distinct codes, the first one the default."""
    if not v:
        problems.add(path, "an empty list of dataflows: list at least one of IS, WS, OS (or write null)")
        return ()
    bad = [x for x in v if x not in DATAFLOWS]
    if bad:
        problems.add(path, f"unknown dataflow {show(bad[0])} in the list, accepted: IS, WS, OS "
                           "(null only alone, for no stationarity)")
        return ()
    if len(set(v)) != len(v):
        problems.add(path, f"dataflow {show(next(x for x in v if list(v).count(x) > 1))} is listed twice")
        return ()
    return tuple(v)


def _temporal_level(raw: Mapping[str, Any], path: str, role: str,
                    problems: Problems) -> dict[str, Any]:
    out: dict[str, Any] = {"level": role, "type": "temporal", "dataflow": None}
    dataflow = raw.get("dataflow")
    if role == "dram":
        if dataflow is not None:
            problems.add(f"{path}.dataflow", f"must be null for dram (got {show(dataflow)})")
    elif "dataflow" in raw:
        if isinstance(dataflow, (list, tuple)):
            options = _dataflow_set(dataflow, f"{path}.dataflow", problems)
            if options:
                out["dataflow"] = options[0]
                if len(options) > 1:
                    out["dataflow_options"] = options
        elif dataflow is not None and dataflow not in DATAFLOWS:
            problems.add(f"{path}.dataflow", "unknown dataflow, accepted: IS, WS, OS or null "
                                             f"(got {show(dataflow)})")
        else:
            out["dataflow"] = dataflow
    bypass: tuple[str, ...] = ()
    if role != "dram":
        if "bypass" in raw:
            bypass = _type_list(raw["bypass"], f"{path}.bypass", problems)
        for df in out.get("dataflow_options") or (out["dataflow"],):
            stationary = STATIONARY.get(df or "")
            if stationary in bypass:
                problems.add(f"{path}.bypass", f"{show(stationary)} is the stationary type of "
                             f"dataflow {df} and cannot be bypassed at this level")
        if "capacity_bytes" in raw:
            out["capacity_bytes"] = _capacity(raw["capacity_bytes"], f"{path}.capacity_bytes",
                                              problems, role=role, bypass=bypass)
    out["bypass"] = bypass
    for key in ("access_energy_pj", "static_power_mw", "access_cycles"):
        if key in raw:
            out[key] = _per_type(raw[key], f"{path}.{key}", problems, key=key)
        else:
            out[key] = {t: 0.0 for t in DATA_TYPES}
    if "bandwidth_bits_per_cycle" in raw:
        out["bandwidth_bits_per_cycle"] = _int(raw, "bandwidth_bits_per_cycle",
                                               f"{path}.bandwidth_bits_per_cycle", problems,
                                               minimum=1)
    out["fixed_mapping"] = (_fixed_mapping(raw["fixed_mapping"], f"{path}.fixed_mapping",
                                           problems) if "fixed_mapping" in raw else None)
    return out


def _levels(raw: Any, problems: Problems, *, outermost_first: bool) -> list[dict[str, Any]]:
    """Check the ``levels`` list; return the checked levels innermost first."""
    if not isinstance(raw, list) or not raw:
        problems.add("levels", f"must be a non-empty list of levels (got {show(raw)})")
        return []
    checked: list[tuple[int, dict[str, Any]]] = []
    first_index: dict[str, int] = {}
    for i, lv in enumerate(raw):
        path = f"levels[{i}]"
        if not isinstance(lv, Mapping):
            problems.add(path, f"must be a mapping with a 'level' key (got {show(lv)})")
            continue
        role = lv.get("level")
        if "level" not in lv:
            problems.add(f"{path}.level", "required field is missing, accepted: "
                         + ", ".join(LEVEL_ROLES))
            continue
        if not isinstance(role, str) or role not in ROLE_KEYS:
            problems.add(f"{path}.level", f"unknown level role {show(role)}, accepted: "
                         + ", ".join(LEVEL_ROLES))
            continue
        _check_keys(lv, ROLE_KEYS[role], path, problems, role=role)
        kind = "spatial" if role in SPATIAL_ROLES else "temporal"
        if "type" in lv and lv["type"] != kind:
            problems.add(f"{path}.type", f"{role} is a {kind} level (got {show(lv['type'])})")
        if role in first_index:
            problems.add(f"{path}.level", f"duplicate level {show(role)} "
                                          f"(already given at levels[{first_index[role]}])")
            continue
        first_index[role] = i
        if kind == "spatial":
            checked.append((i, _spatial_level(lv, path, role, problems)))
        else:
            checked.append((i, _temporal_level(lv, path, role, problems)))
    written = [lv["level"] for _, lv in checked]
    expected = sorted(written, key=LEVEL_ROLES.index, reverse=outermost_first)
    if written != expected:
        order = list(reversed(LEVEL_ROLES)) if outermost_first else list(LEVEL_ROLES)
        how = ("outermost first in a 'version: 1' document" if outermost_first
               else "innermost first (or outermost first with 'version: 1')")
        problems.add("levels", f"levels are out of order: list them {how}: "
                     f"{', '.join(order)} (got {', '.join(written)})")
    for role in MANDATORY_ROLES:
        if role not in written:
            problems.add("levels", f"a {role} level is required (spec Q2)")
    return sorted((lv for _, lv in checked), key=lambda lv: LEVEL_ROLES.index(lv["level"]))


def validate(raw: Any, problems: Problems) -> dict[str, Any]:
    """Check a raw target document and normalise it.

    Args:
        raw: the parsed YAML/JSON document.
        problems: collector the problems are appended to (the caller raises once).

    Returns:
        The normalised document: every top-level key present (defaults filled), ``levels``
        innermost first, each level with every key of its role. Values that failed a check are
        ``None``; the result is only meaningful when ``problems`` stayed empty.
    """
    if not isinstance(raw, Mapping):
        problems.add("", f"a target must be a mapping of keys ({', '.join(TOP_KEYS)}) "
                         f"(got {show(raw)})")
        return {}
    _check_keys(raw, TOP_KEYS, "", problems)
    out: dict[str, Any] = {}
    version = raw.get("version")
    if "version" in raw and not (_is_int(version) and version in VERSIONS):
        problems.add("version", f"unsupported version, accepted: "
                     f"{', '.join(map(str, VERSIONS))} (got {show(version)})")
    out["version"] = version
    if "schema" in raw and raw["schema"] != SCHEMA_ID:
        problems.add("schema", f"must be {show(SCHEMA_ID)} (got {show(raw['schema'])})")
    out["schema"] = SCHEMA_ID
    out["name"] = _str(raw["name"], "name", problems) if "name" in raw else None
    if "precision_bits" in raw:
        bits = raw["precision_bits"]
        if not _is_int(bits):
            problems.add("precision_bits", f"must be an integer (got {show(bits)})")
        elif bits <= 0 or bits % 8:
            problems.add("precision_bits", f"must be a positive multiple of 8 (got {show(bits)})")
        elif not _too_big("precision_bits", bits, LIMITS["precision_bits"][1], problems):
            out["precision_bits"] = int(bits)
    if "frequency_mhz" in raw:
        out["frequency_mhz"] = _real(raw["frequency_mhz"], "frequency_mhz", problems,
                                     key="frequency_mhz", positive=True)
    if "mac_energy_pj" in raw:
        out["mac_energy_pj"] = _real(raw["mac_energy_pj"], "mac_energy_pj", problems,
                                     key="mac_energy_pj")
    out["mac_static_power_mw"] = (_real(raw["mac_static_power_mw"], "mac_static_power_mw",
                                        problems, key="mac_static_power_mw")
                                  if "mac_static_power_mw" in raw else 0.0)
    out["source"] = _str(raw["source"], "source", problems) if "source" in raw else None
    notes = raw.get("notes", [])
    if isinstance(notes, str):
        notes = [notes]
    if not isinstance(notes, list) or not all(isinstance(n, str) for n in notes):
        problems.add("notes", f"must be a string or a list of strings (got {show(notes)})")
        notes = []
    out["notes"] = tuple(notes)
    out["levels"] = (_levels(raw["levels"], problems, outermost_first=version == 1)
                     if "levels" in raw else [])
    out["vector_unit"] = (_vector_unit(raw["vector_unit"], problems)
                          if "vector_unit" in raw else None)
    units = 1
    for lv in out["levels"]:
        if lv.get("type") == "spatial" and isinstance(lv.get("x"), int) and isinstance(lv.get("y"), int):
            units *= lv["x"] * lv["y"]
    if units > MAX_MAC_UNITS:
        problems.add("levels", f"the MAC, PE and chip arrays hold {units} MAC units together, more than "
                               f"the schema's bound {MAX_MAC_UNITS} (2^48); use smaller arrays")
    return out


#: Upper bounds of the vector-unit values (they keep every cost figure finite).
VECTOR_UNIT_MAX: dict[str, float] = {"ops_per_cycle": 1e12, "energy_per_op_pj": 1e9}


def _vector_unit(v: Any, problems: Problems) -> dict[str, float | None] | None:
    """Check the optional ``vector_unit`` section; absent keys are None (= the default)."""
    if not isinstance(v, Mapping):
        problems.add("vector_unit", "must be a mapping with keys "
                     f"{', '.join(VECTOR_UNIT_KEYS)} (got {show(v)})")
        return None
    _check_keys(v, VECTOR_UNIT_KEYS, "vector_unit", problems)
    out: dict[str, float | None] = {}
    for name in VECTOR_UNIT_KEYS:
        x = (_real(v[name], f"vector_unit.{name}", problems, key=name, positive=name == "ops_per_cycle")
             if name in v else None)
        if x is not None and x > VECTOR_UNIT_MAX[name]:
            problems.add(f"vector_unit.{name}", f"must be <= {VECTOR_UNIT_MAX[name]:g} "
                         f"(got {show(v[name])})")
            x = None
        out[name] = x
    return out
