"""External tensor data of ``MODEL.scheduled.onnx``: the files a model keeps its weights in
(``TensorProto.data_location == EXTERNAL``) are placed beside the annotated copy under the same
relative names, so it loads like the original. They are copied: onnx refuses external data
files with several hard links (a guard against hard-link attacks).

A location is only followed when it is a plain relative path that stays inside the model's
folder: a model naming ``../x``, an absolute path or a missing file is not copied (the annotated
model is then not written, with a warning).
"""
from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path, PurePosixPath

import onnx

from .._io import atomic_path

logger = logging.getLogger(__name__)


def external_locations(model: onnx.ModelProto) -> tuple[str, ...]:
    """Distinct ``location`` values of the model's externally stored initializers (graph order)."""
    out: dict[str, None] = {}
    for t in model.graph.initializer:
        if t.data_location == onnx.TensorProto.EXTERNAL:
            for e in t.external_data:
                if e.key == "location":
                    out[e.value] = None
    return tuple(out)


def resolve_locations(model_path: str | os.PathLike[str], locations: tuple[str, ...]
                      ) -> dict[str, Path] | str:
    """Each location -> its file, or a one-line reason why they cannot all be followed."""
    base = Path(model_path).resolve().parent
    found: dict[str, Path] = {}
    for loc in locations:
        rel = PurePosixPath(loc.replace("\\", "/"))
        if not loc or rel.is_absolute() or ".." in rel.parts or ":" in loc:
            return f"external data location {loc!r} is not a relative path inside the model's folder"
        path = (base / Path(*rel.parts)).resolve()
        if base not in path.parents or not path.is_file():
            return f"external data file {loc!r} is missing beside the model"
        found[loc] = path
    return found


def place_beside(files: dict[str, Path], out_dir: str | os.PathLike[str]) -> None:
    """Copies every external data file to ``out_dir/<location>`` (atomically).

    Raises:
        OSError: a file cannot be written.
    """
    out = Path(out_dir)
    for loc, src in files.items():
        dst = out / Path(*PurePosixPath(loc.replace("\\", "/")).parts)
        if dst.exists() and os.path.samefile(src, dst):
            continue
        dst.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(dst) as tmp:
            shutil.copyfile(src, tmp)
        logger.debug("external data %s -> %s", src, dst)
