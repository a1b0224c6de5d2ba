"""The emit stage of the compile pass: the output folder and every file in it.

Layout of ``out_dir``: ``schedules/NNN_<layer>.json`` and ``.txt`` (one pair per scheduled
layer), ``report.json``, ``report.md``, ``report.html``, ``<model>.scheduled.onnx`` (when the model
is available, with its external data files beside it), ``timing.json`` and the manifest
``.rlsched-manifest.json`` (written by :func:`rlsched_compile._io.staged_output_dir`).
"""
from __future__ import annotations

import datetime
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from .._io import staged_output_dir
from ..errors import RlschedError
from ..targets.model import Target
from ._files import dumps_json, write_bytes_atomic, write_text_atomic
from .report import NetworkTotals, render_markdown
from .schedule import LayerSchedule, file_stem, render_schedule_text, schedule_to_dict, scheduled_onnx_name

if TYPE_CHECKING:  # networkx is imported with the frontend, not with the package
    from ..network import Network

logger = logging.getLogger(__name__)


def write_outputs(out_dir: str | os.PathLike[str], *, network: Network, target: Target,
                  schedules: Sequence[LayerSchedule], totals: NetworkTotals, report: Mapping[str, Any],
                  model: Any, timing: Mapping[str, Any]) -> Path:
    """Write every output into ``out_dir``, the whole set at once (see :mod:`rlsched_compile._io`).

    The files (see the module doc) are built in a temporary folder beside ``out_dir`` and swapped
    in when complete: the folder holds the old set or the new set, never a mix. A folder holding
    files this tool did not write is refused (nothing is deleted), and so is a folder another run
    is writing.

    Args:
        out_dir: the output folder.
        network: the compiled network.
        target: the target.
        schedules: every scheduled layer, in network order.
        totals: the network totals.
        report: the ``report.json`` document (:func:`~rlsched_compile.emit.report.build_report`).
        model: the ``onnx.ModelProto`` to annotate (None: read from ``network.source`` when set).
        timing: wall times and cache statistics (``timing.json``, with the time of writing).

    Returns:
        The output directory.

    Raises:
        OutputFolderError: the folder is in use by another run or holds foreign files.
        RlschedError: the directory cannot be created or written.
    """
    from .external_data import place_beside
    from .html import render_html
    from .onnx_annotate import annotate_model

    out = Path(out_dir)
    try:
        with staged_output_dir(out) as stage:
            sched_dir = stage / "schedules"
            sched_dir.mkdir()
            for s in schedules:
                stem = file_stem(s.index, s.layer.name)
                write_text_atomic(sched_dir / f"{stem}.json", dumps_json(schedule_to_dict(s, target)))
                write_text_atomic(sched_dir / f"{stem}.txt", render_schedule_text(s, target))
            write_text_atomic(stage / "report.json", dumps_json(report))
            write_text_atomic(stage / "report.md", render_markdown(report))
            write_text_atomic(stage / "report.html", render_html(report))
            proto, external = _model_proto(network, model)
            if proto is not None:
                annotated = annotate_model(proto, schedules, target=target, node_index=network.onnx_node,
                                           totals_energy_pj=totals.energy_pj, totals_cycles=totals.cycles)
                place_beside(external, stage)
                write_bytes_atomic(stage / scheduled_onnx_name(network.name),
                                   annotated.SerializeToString(deterministic=True))
            written = dict(timing)
            written["written_utc"] = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
            write_text_atomic(stage / "timing.json", dumps_json(written))
    except OSError as exc:
        raise RlschedError(f"cannot write outputs to {out}: {exc.strerror or exc}; "
                           "choose another directory with --out") from exc
    logger.info("wrote %s", out)
    return out


def _model_proto(network: Network, model: Any) -> tuple[Any, dict[str, Path]]:
    """The model to annotate and its external data files (location -> file); ``None`` when
    there is no model or its external data cannot be followed (then with a warning)."""
    import onnx

    from .external_data import external_locations, resolve_locations

    if isinstance(model, onnx.ModelProto):
        return model, {}
    if network.source is None:
        return None, {}
    proto = onnx.load(network.source, load_external_data=False)
    locations = external_locations(proto)
    if not locations:
        return proto, {}
    files = resolve_locations(network.source, locations)
    if isinstance(files, str):
        logger.warning("%s: %s; %s.scheduled.onnx is not written", network.source, files, network.name)
        return None, {}
    return proto, files
