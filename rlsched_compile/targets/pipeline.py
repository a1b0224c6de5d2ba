"""Pipeline targets (schema ``rlsched-pipeline-v1``): their declared key table, validator and loader.

A pipeline target file (``accelerators/edgetpu.yaml``) holds the constants of the pipeline-stage
cost model. It is read like a per-layer target, through the same steps and the same modules:
the shipped name is resolved and the file parsed by :mod:`rlsched_compile.targets.documents`
(bounded strict loader, duplicate keys refused), a target of the other kind is refused by
:mod:`rlsched_compile.targets.kind`, and the keys are checked against tables of
:class:`~rlsched_compile.targets.schema.Key`, collecting every problem with its dotted path.
The frozen value built from the result,
:class:`~rlsched_compile.pipeline.target.PipelineTarget`, belongs to the pipeline pass.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import yaml

from .._dataload import load_yaml, read_text
from ..errors import TargetError
from .documents import StrictLoader, shipped_files
from .kind import PER_LAYER, PIPELINE, shipped_target_names, target_kind, wrong_kind_error
from .schema import PIPELINE_SCHEMA_ID, Key, key_table

logger = logging.getLogger(__name__)

#: Value of the ``schema`` key of a pipeline target file.
SCHEMA = PIPELINE_SCHEMA_ID

#: Number kinds of the pipeline schema: kind -> (type, must be > 0 (else >= 0), upper bound or None).
NUMBER_KINDS: dict[str, tuple[type, bool, float | None]] = {
    "positive_real": (float, True, None),
    "nonnegative_real": (float, False, None),
    "ratio": (float, True, 1.0),
    "positive_int": (int, True, None),
}

#: Keys of each section, in file order.
SECTION_KEYS: dict[str, dict[str, Key]] = {
    "compute": key_table(
        Key("peak_macs_per_s", "positive_real", "MAC/s", True, None,
            "P: peak multiply-accumulates per second of one chip"),
        Key("efficiency_ratio", "ratio", "", True, None, "eta: fraction of P reached on real layers"),
    ),
    "memory": key_table(
        Key("on_chip_bytes", "positive_real", "byte", True, None,
            "M_on: on-chip bytes usable to cache parameters"),
        Key("off_chip_bytes_per_s", "positive_real", "byte/s", True, None,
            "B_off: rate of streaming parameters that do not fit"),
    ),
    "link": key_table(
        Key("link_bytes_per_s", "positive_real", "byte/s", True, None,
            "B_link: rate of tensors entering/leaving a stage"),
        Key("hop_s", "nonnegative_real", "s", True, None,
            "c_hop: fixed per-stage overhead per inference (>= 0)"),
    ),
    "tensors": key_table(
        Key("data_type_bytes", "positive_int", "byte", True, None, "bytes per tensor element"),
    ),
}

#: Top-level keys.
TOP_KEYS: dict[str, Key] = key_table(
    Key("version", "int", "", True, None, "document format version, 1"),
    Key("schema", "str", "", True, None, f'schema identifier, "{SCHEMA}"'),
    Key("name", "str", "", True, None, "target name"),
    *(Key(section, "section", "", True, None, f"the {section} constants (see SECTION_KEYS)")
      for section in SECTION_KEYS),
)


def resolve_pipeline_target(name_or_path: str | Path) -> Path:
    """Turn ``edgetpu`` into ``accelerators/edgetpu.yaml``; an existing path is returned as is.

    Raises:
        TargetError: neither a file nor a shipped target name.
    """
    path = Path(name_or_path)
    if path.is_file():
        return path
    shipped = shipped_files().get(str(name_or_path))
    if shipped is not None:
        return shipped
    names = shipped_target_names(PIPELINE)
    raise TargetError(f"pipeline target {str(name_or_path)!r} not found: give a YAML path or one of "
                      f"{', '.join(names) or '(none shipped)'}")


def _number(value: Any, path: str, key: Key, problems: list[str]) -> float | int | None:
    """One number of a section checked against its kind; None (and a problem) when it fails."""
    kind, positive, upper = NUMBER_KINDS[key.kind]
    numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind is int and not (numeric and float(value).is_integer()):
        problems.append(f"{path}: must be an integer, got {value!r}")
        return None
    if not numeric:
        hint = ""
        if isinstance(value, str):
            try:
                float(value)
                hint = " (YAML reads 2.0e12 as text: write 2.0e+12)"
            except ValueError:
                pass
        problems.append(f"{path}: must be a number, got {value!r}{hint}")
        return None
    if value != value or value in (float("inf"), float("-inf")):
        problems.append(f"{path}: must be finite, got {value!r}")
        return None
    if positive and value <= 0:
        problems.append(f"{path}: must be > 0, got {value!r}")
    elif not positive and value < 0:
        problems.append(f"{path}: must be >= 0, got {value!r}")
    elif upper is not None and value > upper:
        problems.append(f"{path}: must be <= {upper:g}, got {value!r}")
    return int(value) if kind is int else float(value)


def validate_pipeline_dict(raw: Any, *, source: str = "<dict>") -> dict[str, Any]:
    """Check a raw pipeline-target mapping against the declared schema.

    Args:
        raw: the parsed YAML document.
        source: file name used in the error message.

    Returns:
        A flat dict of the constants (``name`` and every section key).

    Raises:
        TargetError: one line listing every problem with its dotted path.
    """
    if not isinstance(raw, dict):
        raise TargetError(f"{source}: a pipeline target must be a YAML mapping, got {type(raw).__name__}")
    problems: list[str] = []
    flat: dict[str, Any] = {}
    for key in raw:
        if key not in TOP_KEYS:
            problems.append(f"{key}: unknown key (accepted: {', '.join(TOP_KEYS)})")
    if raw.get("version") != 1:
        problems.append(f"version: must be 1, got {raw.get('version')!r}")
    if raw.get("schema") != SCHEMA:
        problems.append(f"schema: must be {SCHEMA!r}, got {raw.get('schema')!r}")
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        problems.append(f"name: must be a non-empty string, got {name!r}")
    flat["name"] = name
    for section, keys in SECTION_KEYS.items():
        block = raw.get(section)
        if not isinstance(block, dict):
            problems.append(f"{section}: missing or not a mapping (keys: {', '.join(keys)})")
            continue
        for key in block:
            if key not in keys:
                problems.append(f"{section}.{key}: unknown key (accepted: {', '.join(keys)})")
        for key, declared in keys.items():
            path = f"{section}.{key}"
            if key not in block:
                problems.append(f"{path}: missing")
                continue
            value = _number(block[key], path, declared, problems)
            if value is not None:
                flat[key] = value
    if problems:
        raise TargetError(f"{source}: invalid pipeline target: " + "; ".join(problems))
    return flat


def read_pipeline_target(name_or_path: str | Path) -> dict[str, Any]:
    """Read and validate a pipeline target by shipped name (``edgetpu``) or YAML path.

    Returns:
        The constants as a flat dict (see :func:`validate_pipeline_dict`).

    Raises:
        TargetError: file missing, unreadable YAML, duplicate keys, a per-layer target, or schema
            problems.
        InputLimitError: the file is larger or deeper than the bounded loader reads.
    """
    path = resolve_pipeline_target(name_or_path)
    try:
        raw, loader = load_yaml(read_text(path, what="pipeline target"), source=f"pipeline target {path}",
                                loader=StrictLoader)
    except yaml.YAMLError as exc:
        reason = str(exc).replace("\n", " ")
        raise TargetError(f"{path.name}: not valid YAML ({reason}); fix the file") from None
    except (ValueError, UnicodeDecodeError) as exc:  # integer too long, not UTF-8
        raise TargetError(f"{path.name}: cannot read ({str(exc).splitlines()[0]}); fix the file") from None
    except OSError as exc:
        raise TargetError(f"{path}: cannot read ({exc.strerror})") from None
    assert isinstance(loader, StrictLoader)
    if loader.duplicate_keys:  # worded as PyYAML words its own construction errors
        first = loader.duplicate_keys[0]
        error = yaml.constructor.ConstructorError(None, None, f"duplicate key {first.key!r}", first.mark)
        reason = str(error).replace("\n", " ")
        raise TargetError(f"{path.name}: not valid YAML ({reason}); fix the file")
    if target_kind(raw) == PER_LAYER:  # before validation: one line naming the fix, not a list of keys
        raise wrong_kind_error(str(name_or_path), PER_LAYER)
    flat = validate_pipeline_dict(raw, source=path.name)
    logger.debug("loaded pipeline target %s from %s", flat["name"], path)
    return flat
