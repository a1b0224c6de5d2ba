"""``rlsched-compile targets``: list the shipped targets (a table, or ``--format json``)."""
from __future__ import annotations

import argparse
import json
from typing import Sequence, TextIO

from .._options import PROG, add_format
from ._common import add_verbosity, verbosity
from ._logging import configure_logging


def main(argv: Sequence[str], stdout: TextIO) -> int:
    """Run the subcommand; returns 0."""
    p = argparse.ArgumentParser(prog=f"{PROG} targets", description="List the shipped targets.")
    add_format(p, json_help="a JSON list")
    add_verbosity(p)
    args = p.parse_args(argv)
    configure_logging(verbosity(args))
    from ..emit.text import render_target_list
    from ..targets import list_targets

    infos = list_targets()
    if args.format == "json":
        stdout.write(json.dumps([{
            "name": i.name, "pe_array": list(i.pe_array), "mac_array": list(i.mac_array),
            "chip_array": list(i.chip_array), "local_buffer_bytes": i.local_buffer_bytes,
            "global_buffer_bytes": i.global_buffer_bytes, "precision_bits": i.precision_bits,
            "frequency_mhz": i.frequency_mhz} for i in infos], indent=1, allow_nan=False) + "\n")
        return 0
    stdout.write(render_target_list(infos))
    return 0
