"""Load accelerator targets: shipped names, YAML/JSON files and plain dicts.

Three steps, as in ZigZag: the raw YAML/JSON document (duplicate keys rejected;
:mod:`rlsched_compile.targets.documents`, shared with the pipeline targets), then the
validated, normalised dict (:func:`rlsched_compile.targets.schema.validate`, which collects
every problem), then the frozen :class:`~rlsched_compile.targets.model.Target`.
"""
from __future__ import annotations

import difflib
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from .._dataload import InputLimitError, check_shape, read_text
from ..errors import TargetError
from .documents import SUFFIXES, looks_like_path, parse, schema_of, shipped_files
from .kind import PIPELINE, target_kind, wrong_kind_error
from .model import DATA_TYPES, Capacity, PerType, SpatialLevel, Target, TemporalLevel, VectorUnit
from .schema import SCHEMA_ID, Problems, show, validate

logger = logging.getLogger(__name__)

def _per_type(d: Mapping[str, float]) -> PerType:
    return PerType(**{t: float(d[t]) for t in DATA_TYPES})


def _capacity(d: Mapping[str, Any] | None) -> Capacity | None:
    if d is None:
        return None
    if d["form"] == "separate":
        return Capacity("separate", per_type_bytes=PerType(*(d[t] for t in DATA_TYPES)))
    if d["form"] == "shared":
        return Capacity("shared", shared_bytes=d["shared"])
    return Capacity("partially_shared", shared_bytes=d["shared"],
                    dedicated_type=d["dedicated_type"], dedicated_bytes=d["dedicated"])


def _build(doc: Mapping[str, Any]) -> Target:
    """Step 3: the frozen Target from a validated document."""
    parts: dict[str, SpatialLevel | TemporalLevel | None] = {}
    for lv in doc["levels"]:
        role = lv["level"]
        if lv["type"] == "spatial":
            # Spec Q19: a 1x1 array is treated as absent (its rows must be ones).
            if lv["x"] == 1 and lv["y"] == 1:
                continue
            parts[role] = SpatialLevel(x=lv["x"], y=lv["y"], allowed_x=lv.get("allowed_x"),
                                       allowed_y=lv.get("allowed_y"))
        else:
            parts[role] = TemporalLevel(
                dataflow=lv["dataflow"],
                dataflow_options=lv.get("dataflow_options"),
                capacity=_capacity(lv.get("capacity_bytes")),
                bypass=lv["bypass"],
                access_energy_pj=_per_type(lv["access_energy_pj"]),
                static_power_mw=_per_type(lv["static_power_mw"]),
                access_cycles=_per_type(lv["access_cycles"]),
                bandwidth_bits_per_cycle=lv["bandwidth_bits_per_cycle"],
                fixed_mapping=lv["fixed_mapping"],
            )
    return Target(
        name=doc["name"],
        precision_bits=doc["precision_bits"],
        frequency_mhz=doc["frequency_mhz"],
        mac_energy_pj=doc["mac_energy_pj"],
        mac_static_power_mw=doc["mac_static_power_mw"],
        source=doc["source"],
        notes=doc["notes"],
        vector_unit=None if doc.get("vector_unit") is None else VectorUnit(**doc["vector_unit"]),
        **parts,  # type: ignore[arg-type]
    )


def _raise_if(problems: Problems, *, source: str) -> None:
    if problems:
        n = len(problems.items)
        text = "; ".join(problems.items)
        # The message must stay on one line (the CLI prints it as `error: ...`).
        text = " ".join(text.split("\n"))
        raise TargetError(f"invalid target {source}: {n} problem{'s' if n > 1 else ''}: {text}")


def _check_kind(raw: Any, *, given: str | None) -> None:
    """Refuse pipeline targets (told by their keys) with a pointer to the command that reads them."""
    if target_kind(raw) == PIPELINE:
        raise wrong_kind_error(given, PIPELINE)


def target_from_dict(d: Mapping[str, Any], *, source: str = "<dict>") -> Target:
    """Validate a target given as a plain dict in the spec's schema and build it.

    Args:
        d: the target (for example a golden vector's ``target`` object).
        source: how to name the input in error messages.

    Returns:
        The frozen target.

    Raises:
        TargetError: listing every problem with its dotted path.
    """
    try:  # a dict from code can be deeper or larger than a file may be (messages render values)
        check_shape(d, source="the mapping")
    except InputLimitError as exc:
        raise TargetError(f"invalid target {source}: {exc}") from None
    _check_kind(d, given=None if source == "<dict>" else source)
    problems = Problems()
    doc = validate(d, problems)
    _raise_if(problems, source=source)
    return _build(doc)


def _load_file(path: Path, *, given: str | None = None) -> Target:
    try:
        text = read_text(path, what="target file")
    except FileNotFoundError:
        raise TargetError(f"target file not found: {path}; give a shipped target name "
                          f"({', '.join(list_target_names())}) or an existing "
                          f".yaml/.json file") from None
    except (OSError, UnicodeDecodeError) as e:
        raise TargetError(f"cannot read target file {path}: {e}") from None
    raw, duplicates = parse(text, path=path)
    source = f"file {path}"
    _check_kind(raw, given=given if given is not None else str(path))
    problems = Problems()
    for dup in duplicates:
        problems.add("", dup)
    doc = validate(raw, problems)
    _raise_if(problems, source=source)
    logger.debug("loaded target %s from %s", doc["name"], path)
    return _build(doc)


def load_target(name_or_path: str | os.PathLike[str] | Mapping[str, Any] | Target) -> Target:
    """Load a target by shipped name, by file path, or from a dict.

    Args:
        name_or_path: a shipped target name (``simba``, ``eyeriss``, ``eyeriss_v2``,
            ``tpu_v3``; see :func:`list_targets`), a path to a ``.yaml``/``.yml``/``.json``
            file in schema ``rlsched-target-v1``, a dict in that schema, or a :class:`Target`
            (returned as is).

    Returns:
        The frozen target.

    Raises:
        TargetError: unknown name (with a suggestion), missing file, unreadable or invalid
            file (every problem listed), or a pipeline target.
    """
    if isinstance(name_or_path, Target):
        return name_or_path
    if isinstance(name_or_path, Mapping):
        return target_from_dict(name_or_path)
    if not isinstance(name_or_path, (str, os.PathLike)):
        raise TargetError(f"a target must be a shipped name, a file path, a dict or a Target "
                          f"(got {type(name_or_path).__name__})")
    text = os.fspath(name_or_path)
    shipped = shipped_files()
    if isinstance(name_or_path, str) and text in shipped:
        return _load_file(shipped[text], given=text)
    if isinstance(name_or_path, os.PathLike) or looks_like_path(text) or Path(text).is_file():
        path = Path(text)
        if path.is_file() and path.suffix.lower() not in SUFFIXES:
            raise TargetError(f"target file {path} has an unsupported suffix; "
                              f"use {', '.join(SUFFIXES)}")
        return _load_file(path, given=text)
    names = list_target_names()
    close = difflib.get_close_matches(text, names, n=1)
    hint = f"did you mean {show(close[0])}? " if close else ""
    raise TargetError(f"unknown target {show(text)}; {hint}shipped targets: {', '.join(names)}; "
                      f"or give a path to a .yaml/.json target file")


@dataclass(frozen=True)
class TargetInfo:
    """Key figures of a shipped target (for listings).

    Attributes:
        name: the shipped name (file stem), as accepted by :func:`load_target`.
        path: the file.
        pe_array, mac_array, chip_array: (x, y) sizes; (1, 1) when the level is absent.
        local_buffer_bytes: ``"I/W/O"`` per-type sizes or the shared size, in bytes.
        global_buffer_bytes: the same for the global buffer; ``"-"`` when absent.
        precision_bits: data width in bits.
        frequency_mhz: clock in MHz.
    """

    name: str
    path: Path
    pe_array: tuple[int, int]
    mac_array: tuple[int, int]
    chip_array: tuple[int, int]
    local_buffer_bytes: str
    global_buffer_bytes: str
    precision_bits: int
    frequency_mhz: float


def _capacity_text(level: TemporalLevel | None) -> str:
    if level is None or level.capacity is None:
        return "-"
    cap = level.capacity
    if cap.form == "separate" and cap.per_type_bytes is not None:
        return "/".join(str(int(v)) for v in cap.per_type_bytes.as_tuple())
    text = f"{cap.shared_bytes} shared"
    if cap.form == "partially_shared":
        text += f" + {cap.dedicated_bytes} {cap.dedicated_type}"
    return text


def _size(level: SpatialLevel | None) -> tuple[int, int]:
    return (1, 1) if level is None else (level.x, level.y)


def list_target_names() -> list[str]:
    """Names of the shipped per-layer targets (schema ``rlsched-target-v1``), sorted."""
    return [name for name, path in shipped_files().items() if schema_of(path) == SCHEMA_ID]


def list_targets() -> tuple[TargetInfo, ...]:
    """The shipped per-layer targets with their key figures, sorted by name.

    Files of other schemas (pipeline targets) are skipped.

    Raises:
        TargetError: a shipped per-layer file is invalid (a packaging bug).
    """
    infos = []
    for name in list_target_names():
        path = shipped_files()[name]
        t = _load_file(path)
        infos.append(TargetInfo(
            name=name, path=path, pe_array=_size(t.pe_array), mac_array=_size(t.mac_array),
            chip_array=_size(t.chip_array), local_buffer_bytes=_capacity_text(t.local_buffer),
            global_buffer_bytes=_capacity_text(t.global_buffer),
            precision_bits=t.precision_bits, frequency_mhz=t.frequency_mhz))
    return tuple(infos)
