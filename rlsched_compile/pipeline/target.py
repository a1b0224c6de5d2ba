"""Pipeline targets: the constants of the pipeline-stage cost model (schema ``rlsched-pipeline-v1``).

A pipeline target file (``accelerators/edgetpu.yaml``) is read in three steps: raw YAML (duplicate
keys rejected), a validated dict (every problem collected, then one :class:`TargetError`), then a
frozen :class:`PipelineTarget`. The per-layer target loader skips files with this schema.
"""
from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml

from .._dataload import BoundedSafeLoader, load_yaml, read_text
from ..errors import RlschedError, TargetError
from ..targets.kind import PER_LAYER, target_kind, wrong_kind_error

logger = logging.getLogger(__name__)

#: Value of the ``schema`` key of a pipeline target file.
SCHEMA = "rlsched-pipeline-v1"

#: Declared keys: section -> key -> (type, must be > 0, upper bound or None, doc line).
_SCHEMA_KEYS: dict[str, dict[str, tuple[type, bool, float | None, str]]] = {
    "compute": {
        "peak_macs_per_s": (float, True, None, "P: peak multiply-accumulates per second of one chip"),
        "efficiency_ratio": (float, True, 1.0, "eta: fraction of P reached on real layers"),
    },
    "memory": {
        "on_chip_bytes": (float, True, None, "M_on: on-chip bytes usable to cache parameters"),
        "off_chip_bytes_per_s": (float, True, None, "B_off: rate of streaming parameters that do not fit"),
    },
    "link": {
        "link_bytes_per_s": (float, True, None, "B_link: rate of tensors entering/leaving a stage"),
        "hop_s": (float, False, None, "c_hop: fixed per-stage overhead per inference (>= 0)"),
    },
    "tensors": {
        "data_type_bytes": (int, True, None, "bytes per tensor element"),
    },
}
_TOP_KEYS = ("version", "schema", "name", *_SCHEMA_KEYS)


@dataclass(frozen=True)
class PipelineTarget:
    """Constants of the pipeline cost model (one chip per stage).

    Attributes:
        name: target name (``edgetpu``).
        peak_macs_per_s: P, peak MAC/s of one chip.
        efficiency_ratio: eta in (0, 1], the fraction of P reached.
        on_chip_bytes: M_on, bytes of parameters a chip keeps on chip.
        off_chip_bytes_per_s: B_off, streaming rate of the parameters beyond M_on (bytes/s).
        link_bytes_per_s: B_link, rate of the tensors entering and leaving a stage (bytes/s).
        hop_s: c_hop, fixed overhead of a stage per inference (s).
        data_type_bytes: bytes per tensor element (1 for int8).
    """

    name: str
    peak_macs_per_s: float
    efficiency_ratio: float
    on_chip_bytes: float
    off_chip_bytes_per_s: float
    link_bytes_per_s: float
    hop_s: float
    data_type_bytes: int

    @property
    def effective_macs_per_s(self) -> float:
        """eta * P, the MAC rate used by the compute term (MAC/s)."""
        return self.efficiency_ratio * self.peak_macs_per_s

    def to_dict(self) -> dict[str, Any]:
        """The constants as a flat dict with stable key order."""
        return asdict(self)

    @property
    def sha256(self) -> str:
        """SHA-256 of the canonical JSON of :meth:`to_dict`."""
        text = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()


class _UniqueKeyLoader(BoundedSafeLoader):
    """The bounded safe loader, rejecting a mapping holding the same key twice."""


def _construct_unique_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> Any:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_unique_mapping)


def accelerators_dir() -> Path:
    """The folder of the shipped target files.

    Uses the shared resolver of :mod:`rlsched_compile.targets.loader` when it exists, else the
    source-checkout layout (``accelerators/`` at the repository root).
    """
    try:
        from ..targets import loader as _loader  # noqa: PLC0415  (optional shared resolver)
        resolver = getattr(_loader, "shipped_dir", None)
        if callable(resolver):
            return Path(resolver())
    except ImportError:
        pass
    return Path(__file__).resolve().parents[2] / "accelerators"


def resolve_target_path(name_or_path: str | Path) -> Path:
    """Turn ``edgetpu`` into ``accelerators/edgetpu.yaml``; an existing path is returned as is.

    Raises:
        TargetError: neither a file nor a shipped target name.
    """
    path = Path(name_or_path)
    if path.is_file():
        return path
    shipped = accelerators_dir() / f"{name_or_path}.yaml"
    if shipped.is_file():
        return shipped
    names = sorted(p.stem for p in accelerators_dir().glob("*.yaml") if _is_pipeline_file(p))
    raise TargetError(f"pipeline target {str(name_or_path)!r} not found: give a YAML path or one of "
                      f"{', '.join(names) or '(none shipped)'}")


def _is_pipeline_file(path: Path) -> bool:
    try:
        raw, _ = load_yaml(read_text(path, what="pipeline target"), source=f"pipeline target {path}",
                           loader=_UniqueKeyLoader)
    except (OSError, ValueError, yaml.YAMLError, RlschedError):
        return False
    return isinstance(raw, dict) and raw.get("schema") == SCHEMA


def validate_pipeline_dict(raw: Any, *, source: str = "<dict>") -> dict[str, Any]:
    """Check a raw pipeline-target mapping against the declared schema.

    Args:
        raw: the parsed YAML document.
        source: file name used in the error message.

    Returns:
        A flat dict of the constants (keys of :class:`PipelineTarget`).

    Raises:
        TargetError: one line listing every problem with its dotted path.
    """
    if not isinstance(raw, dict):
        raise TargetError(f"{source}: a pipeline target must be a YAML mapping, got {type(raw).__name__}")
    problems: list[str] = []
    flat: dict[str, Any] = {}
    for key in raw:
        if key not in _TOP_KEYS:
            problems.append(f"{key}: unknown key (accepted: {', '.join(_TOP_KEYS)})")
    if raw.get("version") != 1:
        problems.append(f"version: must be 1, got {raw.get('version')!r}")
    if raw.get("schema") != SCHEMA:
        problems.append(f"schema: must be {SCHEMA!r}, got {raw.get('schema')!r}")
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        problems.append(f"name: must be a non-empty string, got {name!r}")
    flat["name"] = name
    for section, keys in _SCHEMA_KEYS.items():
        block = raw.get(section)
        if not isinstance(block, dict):
            problems.append(f"{section}: missing or not a mapping (keys: {', '.join(keys)})")
            continue
        for key in block:
            if key not in keys:
                problems.append(f"{section}.{key}: unknown key (accepted: {', '.join(keys)})")
        for key, (kind, positive, upper, _doc) in keys.items():
            path = f"{section}.{key}"
            if key not in block:
                problems.append(f"{path}: missing")
                continue
            value = block[key]
            numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
            if kind is int and not (numeric and float(value).is_integer()):
                problems.append(f"{path}: must be an integer, got {value!r}")
                continue
            if not numeric:
                hint = ""
                if isinstance(value, str):
                    try:
                        float(value)
                        hint = " (YAML reads 2.0e12 as text: write 2.0e+12)"
                    except ValueError:
                        pass
                problems.append(f"{path}: must be a number, got {value!r}{hint}")
                continue
            if value != value or value in (float("inf"), float("-inf")):
                problems.append(f"{path}: must be finite, got {value!r}")
                continue
            if positive and value <= 0:
                problems.append(f"{path}: must be > 0, got {value!r}")
            elif not positive and value < 0:
                problems.append(f"{path}: must be >= 0, got {value!r}")
            elif upper is not None and value > upper:
                problems.append(f"{path}: must be <= {upper:g}, got {value!r}")
            flat[key] = int(value) if kind is int else float(value)
    if problems:
        raise TargetError(f"{source}: invalid pipeline target: " + "; ".join(problems))
    return flat


def load_pipeline_target(name_or_path: str | Path) -> PipelineTarget:
    """Load and validate a pipeline target by shipped name (``edgetpu``) or YAML path.

    Raises:
        TargetError: file missing, unreadable YAML, duplicate keys or schema problems.
    """
    path = resolve_target_path(name_or_path)
    try:
        raw, _ = load_yaml(read_text(path, what="pipeline target"), source=f"pipeline target {path}",
                           loader=_UniqueKeyLoader)
    except yaml.YAMLError as exc:
        reason = str(exc).replace("\n", " ")
        raise TargetError(f"{path.name}: not valid YAML ({reason}); fix the file") from None
    except (ValueError, UnicodeDecodeError) as exc:  # integer too long, not UTF-8
        raise TargetError(f"{path.name}: cannot read ({str(exc).splitlines()[0]}); fix the file") from None
    except OSError as exc:
        raise TargetError(f"{path}: cannot read ({exc.strerror})") from None
    if target_kind(raw) == PER_LAYER:  # before validation: one line naming the fix, not a list of keys
        raise wrong_kind_error(str(name_or_path), PER_LAYER)
    flat = validate_pipeline_dict(raw, source=path.name)
    logger.debug("loaded pipeline target %s from %s", flat["name"], path)
    return PipelineTarget(**flat)
