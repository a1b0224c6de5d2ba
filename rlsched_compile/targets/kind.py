"""The two kinds of target file, told apart by their shape before any schema validation.

A per-layer target (schema ``rlsched-target-v1``: ``simba``, ``eyeriss``, ...) describes one
accelerator's memory hierarchy for the scheduling compiler; a pipeline target (schema
``rlsched-pipeline-v1``: ``edgetpu``) holds the constants of the pipeline-stage cost model. Each
loader checks the kind first, so a target of the other kind gets one line naming the command it
belongs to and the targets that fit, instead of a list of unknown keys.
"""
from __future__ import annotations

from typing import Any, Mapping

from ..errors import TargetError
from .documents import shipped_documents
from .schema import PIPELINE_SCHEMA_ID, SCHEMA_ID

#: Kind of a per-layer target (``rlsched-compile MODEL.onnx --target``).
PER_LAYER = "per-layer"
#: Kind of a pipeline target (``rlsched-compile pipeline MODEL.onnx --target``).
PIPELINE = "pipeline"

#: Top-level keys only a per-layer target has.
PER_LAYER_KEYS: tuple[str, ...] = ("levels", "precision_bits", "frequency_mhz", "mac_energy_pj",
                                   "mac_static_power_mw")
#: Top-level sections only a pipeline target has.
PIPELINE_KEYS: tuple[str, ...] = ("compute", "memory", "link", "tensors")

_SCHEMA_OF = {PER_LAYER: SCHEMA_ID, PIPELINE: PIPELINE_SCHEMA_ID}


def target_kind(raw: Any) -> str | None:
    """Which kind of target a parsed document is, from its keys.

    The keys decide when they point one way only (a per-layer key such as ``levels`` and no
    pipeline section, or the reverse); otherwise the ``schema`` value decides.

    Args:
        raw: the parsed YAML/JSON document.

    Returns:
        :data:`PER_LAYER`, :data:`PIPELINE`, or None when neither shape nor schema tells.
    """
    if not isinstance(raw, Mapping):
        return None
    per_layer = any(k in raw for k in PER_LAYER_KEYS)
    pipeline = any(k in raw for k in PIPELINE_KEYS)
    if per_layer and not pipeline:
        return PER_LAYER
    if pipeline and not per_layer:
        return PIPELINE
    return {SCHEMA_ID: PER_LAYER, PIPELINE_SCHEMA_ID: PIPELINE}.get(raw.get("schema"))


def shipped_target_names(kind: str) -> list[str]:
    """Names of the shipped targets of one kind, sorted."""
    return sorted(name for name, raw in shipped_documents().items() if target_kind(raw) == kind)


def wrong_kind_error(given: str | None, kind: str) -> TargetError:
    """The one-line error for a target of kind ``kind`` given where the other kind is needed.

    Args:
        given: the target as the user named it (a shipped name or a path); None for a target
            passed as a dict.
        kind: the kind the document has (:data:`PER_LAYER` or :data:`PIPELINE`).

    Returns:
        The error to raise (exit code 2 on the command line).
    """
    wanted = PIPELINE if kind == PER_LAYER else PER_LAYER
    names = shipped_target_names(wanted)
    choices = (" or ".join([", ".join(names[:-1]), names[-1]]) if len(names) > 1 else "".join(names)) or "none shipped"
    if kind == PER_LAYER:
        command, home = "`rlsched-compile pipeline`", "rlsched-compile MODEL.onnx"
    else:
        command, home = "this command", "rlsched-compile pipeline MODEL.onnx"
    text = (f"{given if given is not None else 'the target'} is a {kind} target, not a {wanted} target; "
            f"{command} takes a {wanted} target: --target {choices} "
            f"(or a {wanted} target file, schema {_SCHEMA_OF[wanted]})")
    if given is not None:
        text += f"; use {given} with `{home} --target {given}`"
    return TargetError(text)
