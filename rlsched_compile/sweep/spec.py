"""The sweep file (``version: 1``): what to compile, on which target variants, for which objectives.

Example::

    version: 1
    name: gb-and-pe                       # optional label
    models: [resnet50, ./models/tiny.onnx]  # zoo names or ONNX paths (relative to this file)
    batch: 1                              # optional: batch for models with a symbolic batch
    targets: [eyeriss, ./my_accel.yaml]   # shipped target names or target files
    objectives: [energy, cycles]          # default [energy]
    search: {strategy: rl-hybrid, seed: 0, budget: null}   # all optional
    parameters:                           # varied target fields; the sweep is their product
      gb_bytes: {level: global_buffer, field: capacity_bytes.shared, values: [65536, 131072]}
      pe_x:     {level: pe_array, field: x, range: {start: 8, stop: 16, step: 4}}
      lb_flow:  {level: local_buffer, field: dataflow, values: [WS, OS]}
    constraint: "pe_x * 12 <= 192 and gb_bytes >= 65536"   # optional, or a list (all must hold)

A parameter names the level (a role of the target schema, or ``target`` for top-level keys such
as ``frequency_mhz``) and the field it sets (``x``, ``dataflow``, ``capacity_bytes.shared``,
``access_energy_pj.input``, ...), with ``values`` or a ``range`` (``{start, stop, step}``
(or ``[start, stop, step]``) arithmetic or ``{start, stop, factor}`` geometric, both including
``stop`` when reached). ``parameters`` may also be a list of ``{name, level, field, values|range}``.
Whether a value makes a valid target is checked per point by the normal target loader: an
invalid point is recorded with that error and does not stop the sweep.

:func:`load_sweep` parses the file with the target loader's strict YAML reader (duplicate keys
rejected), checks every key, loads the base targets and the models, and raises one
:class:`SweepError` listing every problem with its path (``parameters.pe_x.range.step: ...``).
"""
from __future__ import annotations

import difflib
import itertools
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Sequence

import yaml

from .._dataload import read_text
from ..objective import DEFAULT_OBJECTIVE, OBJECTIVE_NAMES, Objective
from ..errors import RlschedError
from ..targets.documents import Yaml12Loader
from ..targets.model import Target
from ..targets.schema import LEVEL_ROLES, ROLE_KEYS, Problems, show
from .constraint import ANY, BOOL, NUMBER, TEXT, Constraint, ConstraintError, parse_constraint

if TYPE_CHECKING:  # networkx loads with the frontend
    from ..network import Network

#: Accepted ``version`` values.
VERSIONS: tuple[int, ...] = (1,)
#: Most values one parameter may take.
MAX_VALUES: int = 10_000
#: Most target points (base targets x parameter combinations) before the constraint filters them.
MAX_COMBINATIONS: int = 200_000
#: Most result rows (models x points x objectives).
MAX_ROWS: int = 100_000
#: Level name for top-level target keys.
TOP_LEVEL: str = "target"
#: Top-level target keys a parameter may set.
TOP_FIELDS: tuple[str, ...] = ("precision_bits", "frequency_mhz", "mac_energy_pj", "mac_static_power_mw")
#: Column names the results use themselves (a parameter may not take them).
RESERVED: frozenset[str] = frozenset({
    "model", "target", "objective", "status", "message", "energy_pj", "cycles", "edp", "macs",
    "mac_utilization", "pe_utilization", "compute_utilization", "layers", "unique_layers",
    "and", "or", "not", "true", "false", "null"})

_KEYS = ("version", "name", "models", "batch", "targets", "objectives", "search", "parameters", "constraint")
_SEARCH_KEYS = ("strategy", "seed", "budget")
_PARAM_KEYS = ("level", "field", "values", "range")
_NESTED = {"capacity": ("input", "weight", "output", "shared"), "per_type": ("input", "weight", "output")}
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class SweepError(RlschedError):
    """A sweep file is missing or invalid (every problem listed)."""


@dataclass(frozen=True)
class Parameter:
    """One varied target field.

    Attributes:
        name: the column name (an identifier, usable in the constraint).
        level: a level role (``global_buffer``, ``pe_array``, ...) or ``target`` (top-level keys).
        field: the key it sets, dotted for nested keys (``capacity_bytes.shared``).
        values: the values it takes, in order.
    """

    name: str
    level: str
    field: str
    values: tuple[Any, ...]


@dataclass(frozen=True)
class ModelEntry:
    """One model of the sweep: its name (the results' ``model`` column) and layers."""

    name: str
    network: "Network"


@dataclass(frozen=True)
class SweepSpec:
    """A validated sweep file with its base targets and models loaded.

    Attributes:
        source: the sweep file's path.
        name: optional label.
        models: the models, in file order.
        targets: the base targets, in file order.
        objectives: objectives, in file order.
        strategy: search strategy (resolved name).
        seed: search seed.
        budget: evaluation budget per layer (None: the strategy's default).
        batch: batch size asked for models with a symbolic batch (None: their own).
        parameters: varied fields, in file order.
        constraints: every constraint (a point is kept when all hold).
    """

    source: str
    name: str | None
    models: tuple[ModelEntry, ...]
    targets: tuple[Target, ...]
    objectives: tuple[Objective, ...]
    strategy: str
    seed: int
    budget: int | None
    batch: int | None
    parameters: tuple[Parameter, ...]
    constraints: tuple[Constraint, ...]

    def settings(self) -> dict[str, Any]:
        """The search settings, as written into the results."""
        return {"strategy": self.strategy, "seed": self.seed, "budget": self.budget, "batch": self.batch}


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_num(v: Any) -> bool:
    return (isinstance(v, (int, float)) and not isinstance(v, bool)) and math.isfinite(float(v))


def _scalar(v: Any) -> bool:
    return v is None or isinstance(v, (bool, str)) or _is_num(v)


def _parse(path: Path) -> tuple[Any, list[str]]:
    try:
        text = read_text(path, what="sweep file")  # regular file, size-capped (the bounded loader)
    except FileNotFoundError:
        raise SweepError(f"sweep file not found: {path}; give the path of a sweep .yaml file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SweepError(f"cannot read sweep file {path}: {exc}") from None
    loader = Yaml12Loader(text)  # bounded: depth and alias-expanded size are limited
    loader.source = f"sweep file {path}"
    try:
        raw = loader.get_single_data()  # type: ignore[no-untyped-call]
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1} column {mark.column + 1}" if mark is not None else ""
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise SweepError(f"sweep file {path} is not valid YAML: {problem}{where}; fix the syntax") from None
    finally:
        loader.dispose()  # type: ignore[no-untyped-call]
    return raw, loader.duplicates


def _count_range(start: float, stop: float, step: float | None, factor: float | None) -> int:
    if step is not None:
        return int(math.floor((stop - start) / step + 1e-9)) + 1 if stop >= start else 0
    assert factor is not None
    if start <= 0 or stop < start:
        return 0 if stop < start else 1
    return int(math.floor(math.log(stop / start) / math.log(factor) + 1e-9)) + 1


def _range_values(raw: Any, path: str, problems: Problems) -> tuple[Any, ...] | None:
    if isinstance(raw, list) and len(raw) == 3:  # [start, stop, step]
        raw = dict(zip(("start", "stop", "step"), raw))
    if not isinstance(raw, Mapping):
        problems.add(path, f"must be a mapping {{start, stop, step}} or {{start, stop, factor}}, or a list "
                          f"[start, stop, step] (got {show(raw)})")
        return None
    ok = True
    for k in raw:
        if k not in ("start", "stop", "step", "factor"):
            problems.add(f"{path}.{k}", "unknown key, accepted keys: start, stop, step, factor")
            ok = False
    for k in ("start", "stop"):
        if k not in raw:
            problems.add(f"{path}.{k}", "required field is missing")
            ok = False
        elif not _is_num(raw[k]):
            problems.add(f"{path}.{k}", f"must be a number (got {show(raw[k])})")
            ok = False
    if ("step" in raw) == ("factor" in raw):
        problems.add(path, "give exactly one of step (arithmetic) or factor (geometric)")
        return None
    step, factor = raw.get("step"), raw.get("factor")
    if step is not None and not (_is_num(step) and step > 0):
        problems.add(f"{path}.step", f"must be a number > 0 (got {show(step)})")
        ok = False
    if factor is not None and not (_is_num(factor) and factor > 1):
        problems.add(f"{path}.factor", f"must be a number > 1 (got {show(factor)})")
        ok = False
    if factor is not None and _is_num(raw.get("start")) and raw["start"] <= 0:
        problems.add(f"{path}.start", f"a geometric range needs start > 0 (got {show(raw['start'])})")
        ok = False
    if not ok:
        return None
    start, stop = raw["start"], raw["stop"]
    if stop < start:
        problems.add(path, f"stop ({show(stop)}) is below start ({show(start)})")
        return None
    n = _count_range(start, stop, step, factor)
    if n > MAX_VALUES:
        problems.add(path, f"gives {n} values, more than the {MAX_VALUES} allowed per parameter")
        return None
    all_int = _is_int(start) and (_is_int(step) if step is not None else _is_int(factor))
    values: list[Any] = []
    for i in range(n):
        v = start + i * step if step is not None else start * factor ** i
        values.append(int(v) if all_int else float(f"{v:.12g}"))
    return tuple(values)


def _field_ok(level: str, fld: str, path: str, problems: Problems) -> bool:
    parts = fld.split(".")
    if level == TOP_LEVEL:
        if fld not in TOP_FIELDS:
            problems.add(path, f"unknown top-level field {show(fld)}, accepted: {', '.join(TOP_FIELDS)}")
            return False
        return True
    declared = {k: key for k, key in ROLE_KEYS[level].items() if k not in ("level", "type")}
    head = parts[0]
    if head not in declared:
        problems.add(path, f"{level} has no field {show(head)}, accepted: {', '.join(declared)}")
        return False
    sub = _NESTED.get(declared[head].kind)
    if sub is None and len(parts) > 1:
        problems.add(path, f"{head} has no sub-fields (set it as a whole: field: {head})")
        return False
    if sub is not None and (len(parts) != 2 or parts[1] not in sub):
        problems.add(path, f"{head} is set per entry: use one of {', '.join(f'{head}.{s}' for s in sub)}")
        return False
    return True


def _parameter(name: Any, raw: Any, problems: Problems, *, path: str) -> Parameter | None:
    ok = True
    if not isinstance(name, str) or not _IDENT.fullmatch(name):
        problems.add(path, "a parameter name must be an identifier (letters, digits, _; not starting with a digit)")
        ok = False
    elif name in RESERVED:
        problems.add(path, f"{show(name)} is a reserved name (a results column or a keyword), rename the parameter")
        ok = False
    if not isinstance(raw, Mapping):
        problems.add(path, f"must be a mapping with level, field and values or range (got {show(raw)})")
        return None
    for k in raw:
        if k not in _PARAM_KEYS:
            problems.add(f"{path}.{k}", f"unknown key, accepted keys: {', '.join(_PARAM_KEYS)}")
            ok = False
    level, fld = raw.get("level"), raw.get("field")
    levels = (*LEVEL_ROLES, TOP_LEVEL)
    if "level" not in raw:
        problems.add(f"{path}.level", f"required field is missing, accepted: {', '.join(levels)}")
        ok = False
    elif level not in levels:
        close = difflib.get_close_matches(str(level), levels, n=1)
        hint = f" (did you mean {show(close[0])}?)" if close else ""
        problems.add(f"{path}.level", f"unknown level {show(level)}{hint}, accepted: {', '.join(levels)}")
        ok = False
    if "field" not in raw:
        problems.add(f"{path}.field", "required field is missing (e.g. x, dataflow, capacity_bytes.shared)")
        ok = False
    elif not isinstance(fld, str) or not fld:
        problems.add(f"{path}.field", f"must be a non-empty string (got {show(fld)})")
        ok = False
    elif level in levels and not _field_ok(level, fld, f"{path}.field", problems):
        ok = False
    values: tuple[Any, ...] | None = None
    if ("values" in raw) == ("range" in raw):
        problems.add(path, "give exactly one of values (a list) or range")
        ok = False
    elif "values" in raw:
        vals = raw["values"]
        if not isinstance(vals, list) or not vals:
            problems.add(f"{path}.values", f"must be a non-empty list (got {show(vals)})")
            ok = False
        elif len(vals) > MAX_VALUES:
            problems.add(f"{path}.values", f"has {len(vals)} values, more than the {MAX_VALUES} allowed")
            ok = False
        else:
            for i, v in enumerate(vals):
                if not (_scalar(v) or (isinstance(v, list) and all(_scalar(x) for x in v))):
                    problems.add(f"{path}.values[{i}]", f"must be a number, a string, null or a list of those "
                                                        f"(got {show(v)})")
                    ok = False
                elif vals.index(v) != i:
                    problems.add(f"{path}.values[{i}]", f"{show(v)} is listed twice")
                    ok = False
            values = tuple(vals)
    else:
        values = _range_values(raw["range"], f"{path}.range", problems)
        ok = ok and values is not None
    if not ok or values is None:
        return None
    return Parameter(name=name, level=level, field=fld, values=values)


def _value_type(values: Sequence[Any]) -> str:
    if all(_is_num(v) for v in values):
        return NUMBER
    if all(v is None or isinstance(v, str) for v in values):
        return TEXT
    if all(isinstance(v, bool) for v in values):
        return BOOL
    return ANY


def _str_list(raw: Any, key: str, problems: Problems) -> list[str]:
    if not isinstance(raw, list) or not raw:
        problems.add(key, f"must be a non-empty list of names or paths (got {show(raw)})")
        return []
    out = []
    for i, v in enumerate(raw):
        if not isinstance(v, str) or not v.strip():
            problems.add(f"{key}[{i}]", f"must be a non-empty string (got {show(v)})")
        elif v in out:
            problems.add(f"{key}[{i}]", f"{show(v)} is listed twice")
        else:
            out.append(v)
    return out


def _resolve(entry: str, base: Path) -> Path:
    p = Path(entry).expanduser()
    return p if p.is_absolute() else base / p


def _load_targets(entries: Sequence[str], base: Path, problems: Problems) -> list[Target]:
    from ..targets import load_target
    from ..targets.documents import looks_like_path

    out: list[Target] = []
    names: dict[str, int] = {}
    for i, entry in enumerate(entries):
        try:
            tgt = load_target(_resolve(entry, base) if looks_like_path(entry) else entry)
        except RlschedError as exc:
            problems.add(f"targets[{i}]", str(exc).splitlines()[0])
            continue
        if tgt.name in names:
            problems.add(f"targets[{i}]", f"target name {show(tgt.name)} is already used by targets[{names[tgt.name]}]; "
                                          "give each base target its own name")
            continue
        names[tgt.name] = i
        out.append(tgt)
    return out


def _load_models(entries: Sequence[str], base: Path, batch: int | None, problems: Problems, *,
                 parse: bool) -> list[ModelEntry]:
    """Check every model exists; read them (ONNX -> layers) only when ``parse``."""
    from ..frontend import load_network
    from ..frontend.zoo import BUILDERS, zoo_path

    out: list[ModelEntry] = []
    names: dict[str, int] = {}
    for i, entry in enumerate(entries):
        try:
            path = zoo_path(entry) if entry in BUILDERS else _resolve(entry, base)
            if entry not in BUILDERS and not path.is_file():
                close = difflib.get_close_matches(entry, list(BUILDERS), n=1)
                hint = f"did you mean {show(close[0])}? " if close else ""
                problems.add(f"models[{i}]", f"no such file {path}; {hint}give a zoo model "
                                             f"({', '.join(BUILDERS)}) or an ONNX file path")
                continue
            if not parse:
                continue
            net = load_network(path, batch=batch)
        except RlschedError as exc:
            problems.add(f"models[{i}]", str(exc).splitlines()[0])
            continue
        if net.name in names:
            problems.add(f"models[{i}]", f"model name {show(net.name)} (the file stem) is already used by "
                                         f"models[{names[net.name]}]; rename one of the files")
            continue
        names[net.name] = i
        out.append(ModelEntry(net.name, net))
    return out


def load_sweep(path: str | os.PathLike[str]) -> SweepSpec:
    """Read and validate a sweep file, loading its base targets and models.

    Args:
        path: the sweep file (YAML; JSON works too).

    Returns:
        The validated :class:`SweepSpec`.

    Raises:
        SweepError: missing or unreadable file, invalid YAML, or any problem of the document, a
            base target or a model, all listed in one message with their paths.
    """
    from ..api import available_strategies

    src = Path(path)
    raw, duplicates = _parse(src)
    problems = Problems()
    for dup in duplicates:
        problems.add("", dup)
    if not isinstance(raw, Mapping):
        problems.add("", f"a sweep file must be a mapping with keys {', '.join(_KEYS)} (got {show(raw)})")
        _raise(problems, src)
    for k in raw:
        if k not in _KEYS:
            close = difflib.get_close_matches(str(k), _KEYS, n=1)
            hint = f" (did you mean {show(close[0])}?)" if close else ""
            problems.add(str(k), f"unknown key{hint}, accepted keys: {', '.join(_KEYS)}")
    for k in ("version", "models", "targets"):
        if k not in raw:
            problems.add(k, "required field is missing")
    version = raw.get("version")
    if "version" in raw and not (_is_int(version) and version in VERSIONS):
        problems.add("version", f"unsupported version, accepted: {', '.join(map(str, VERSIONS))} (got {show(version)})")
    name = raw.get("name")
    if name is not None and (not isinstance(name, str) or not name.strip()):
        problems.add("name", f"must be a non-empty string (got {show(name)})")
        name = None
    batch = raw.get("batch")
    if batch is not None and not (_is_int(batch) and batch >= 1):
        problems.add("batch", f"must be an integer >= 1 (got {show(batch)})")
        batch = None
    objectives: list[Objective] = [DEFAULT_OBJECTIVE]
    if "objectives" in raw:
        objectives = []
        objs = raw["objectives"]
        if isinstance(objs, str):
            objs = [objs]
        if not isinstance(objs, list) or not objs:
            problems.add("objectives", f"must be a non-empty list of {', '.join(OBJECTIVE_NAMES)} (got {show(objs)})")
        else:
            for i, o in enumerate(objs):
                if o not in OBJECTIVE_NAMES:
                    problems.add(f"objectives[{i}]", f"unknown objective {show(o)}, accepted: {', '.join(OBJECTIVE_NAMES)}")
                elif o in objectives:
                    problems.add(f"objectives[{i}]", f"{show(o)} is listed twice")
                else:
                    objectives.append(Objective(o))
    names, default = available_strategies()
    strategy, seed, budget = default, 0, None
    search = raw.get("search", {})
    if search is None:
        search = {}
    if not isinstance(search, Mapping):
        problems.add("search", f"must be a mapping with keys {', '.join(_SEARCH_KEYS)} (got {show(search)})")
        search = {}
    for k in search:
        if k not in _SEARCH_KEYS:
            problems.add(f"search.{k}", f"unknown key, accepted keys: {', '.join(_SEARCH_KEYS)}")
    if search.get("strategy") is not None:
        s = search["strategy"]
        if s not in names:
            close = difflib.get_close_matches(str(s), names, n=1)
            hint = f" (did you mean {show(close[0])}?)" if close else ""
            problems.add("search.strategy", f"unknown strategy {show(s)}{hint}, accepted: {', '.join(names)}")
        else:
            strategy = s
    if "seed" in search:
        if not (_is_int(search["seed"]) and search["seed"] >= 0):
            problems.add("search.seed", f"must be an integer >= 0 (got {show(search['seed'])})")
        else:
            seed = int(search["seed"])
    if search.get("budget") is not None:
        if not (_is_int(search["budget"]) and search["budget"] >= 1):
            problems.add("search.budget", f"must be an integer >= 1 or null (got {show(search['budget'])})")
        else:
            budget = int(search["budget"])
    params: list[Parameter] = []
    raw_params = raw.get("parameters", {})
    if raw_params is None:
        raw_params = {}
    items: list[tuple[Any, Any, str]] = []  # (name, definition, path)
    if isinstance(raw_params, Mapping):
        items = [(n, d, f"parameters.{n}") for n, d in raw_params.items()]
    elif isinstance(raw_params, list):  # the list form: [{name, level, field, values|range}, ...]
        seen: dict[Any, int] = {}
        for i, item in enumerate(raw_params):
            if not isinstance(item, Mapping) or "name" not in item:
                problems.add(f"parameters[{i}]", f"must be a mapping with a name, level, field and values or range "
                                                 f"(got {show(item)})")
                continue
            try:
                first = seen.setdefault(item["name"], i)
            except TypeError:
                first = i
            if first != i:
                problems.add(f"parameters[{i}].name", f"{show(item['name'])} is already the name of parameters[{first}]")
                continue
            items.append((item["name"], {k: v for k, v in item.items() if k != "name"}, f"parameters[{i}]"))
    else:
        problems.add("parameters", f"must be a mapping of parameter name -> {{level, field, values|range}} or a "
                                   f"list of {{name, level, field, values|range}} (got {show(raw_params)})")
    for pname, praw, ppath in items:
        p = _parameter(pname, praw, problems, path=ppath)
        if p is not None:
            params.append(p)
    constraints: list[Constraint] = []
    raw_c = raw.get("constraint")
    if raw_c is not None:
        texts = [raw_c] if isinstance(raw_c, str) else raw_c
        if not isinstance(texts, list) or not texts:
            problems.add("constraint", f"must be an expression string or a list of them (got {show(raw_c)})")
            texts = []
        types = {p.name: _value_type(p.values) for p in params}
        types["target"] = TEXT
        complete = isinstance(raw_params, (Mapping, list)) and len(params) == len(raw_params)
        for i, text in enumerate(texts):
            cpath = "constraint" if isinstance(raw_c, str) else f"constraint[{i}]"
            if not isinstance(text, str):
                problems.add(cpath, f"must be an expression string (got {show(text)})")
                continue
            try:
                constraints.append(parse_constraint(text, types))
            except ConstraintError as exc:
                if complete or "unknown name" not in str(exc):
                    problems.add(cpath, str(exc))
    base = src.parent
    model_entries = _str_list(raw["models"], "models", problems) if "models" in raw else []
    target_entries = _str_list(raw["targets"], "targets", problems) if "targets" in raw else []
    targets = _load_targets(target_entries, base, problems)
    combos = len(target_entries) * math.prod(len(p.values) for p in params)
    if combos > MAX_COMBINATIONS:
        problems.add("parameters", f"the sweep has {combos} target points before the constraint, more than the "
                                   f"{MAX_COMBINATIONS} allowed; split it into several sweeps")
    models = _load_models(model_entries, base, batch, problems, parse=not problems)
    _raise(problems, src)
    spec = SweepSpec(source=str(src), name=name, models=tuple(models), targets=tuple(targets),
                     objectives=tuple(objectives), strategy=strategy, seed=seed, budget=budget, batch=batch,
                     parameters=tuple(params), constraints=tuple(constraints))
    return spec


def _raise(problems: Problems, src: Path) -> None:
    if problems:
        n = len(problems.items)
        text = " ".join("; ".join(problems.items).split("\n"))
        raise SweepError(f"invalid sweep file {src}: {n} problem{'s' if n > 1 else ''}: {text}")


def combinations(spec: SweepSpec) -> list[tuple[Target, tuple[Any, ...]]]:
    """Every (base target, parameter values) pair the constraints keep, in file order.

    Raises:
        SweepError: a constraint fails to evaluate on some point (division by zero, ...), or no
            point is left.
    """
    out: list[tuple[Target, tuple[Any, ...]]] = []
    names = [p.name for p in spec.parameters]
    for tgt in spec.targets:
        for values in itertools.product(*(p.values for p in spec.parameters)):
            env = dict(zip(names, values))
            env["target"] = tgt.name
            keep = True
            for i, c in enumerate(spec.constraints):
                try:
                    keep = c.evaluate(env)
                except ConstraintError as exc:
                    where = "constraint" if len(spec.constraints) == 1 else f"constraint[{i}]"
                    point = ", ".join(f"{k}={show(v)}" for k, v in env.items())
                    raise SweepError(f"invalid sweep file {spec.source}: {where}: {exc} at the point {point}") from None
                if not keep:
                    break
            if keep:
                out.append((tgt, values))
    if not out:
        raise SweepError(f"sweep file {spec.source}: the constraint excludes every point; loosen it")
    rows = len(out) * len(spec.models) * len(spec.objectives)
    if rows > MAX_ROWS:
        raise SweepError(f"sweep file {spec.source}: {rows} result rows, more than the {MAX_ROWS} allowed; "
                         "split it into several sweeps or tighten the constraint")
    return out
