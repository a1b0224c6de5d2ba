"""The ``rlsched-compile train`` subcommand: train the scheduling agent and export its policy.

Importing this module imports neither torch nor numpy (training imports them when it starts), so
compiling never needs torch. The layer distribution (:mod:`rlsched_compile.rl.layers`) is the unique
layers of the given ONNX models (minus the held-out models) plus synthetic layers drawn from
realistic ranges, crossed with the given targets.
"""
from __future__ import annotations

import argparse
import json
import logging
import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence, TextIO

from .._options import OUTPUT_ROOT, REMOVAL_VERSION, add_deprecated_alias, add_out
from ..errors import RlschedError
from ..objective import OBJECTIVE_NAMES
from ..rl.config import EVAL_PAIRS, PPOConfig
from ._common import parse_and_run

if TYPE_CHECKING:
    from ..targets.model import Target

logger = logging.getLogger(__name__)

DEFAULT_TARGETS = ("eyeriss", "eyeriss_v2", "tpu_v3", "simba")
DEFAULT_HELD_OUT = ("yolov3",)
#: Default output folder (``rl_runs/policy`` in earlier versions, see README "Command-line conventions").
DEFAULT_OUT = OUTPUT_ROOT / "policy"
_OLD_DEFAULT_OUT = Path("rl_runs") / "policy"
#: Reward metrics of ``--objective``: a compile objective, or ``mixed`` (energy or cycles drawn per episode).
REWARD_OBJECTIVES = ("mixed", *OBJECTIVE_NAMES)
#: The command's default ``--objective``. It differs from :class:`~rlsched_compile.rl.config.PPOConfig`'s
#: (``energy``, the paper's reward metric, for a caller of the library) on purpose: the command trains the
#: one policy every compile objective uses, so its episodes draw energy or cycles; the shipped policy was
#: trained so. Every other training default is PPOConfig's own (read from it below).
TRAIN_COMMAND_OBJECTIVE = "mixed"
_PPO = PPOConfig()


def main(argv: Sequence[str], stdout: TextIO) -> int:
    """Parse ``argv`` and run the subcommand (see :func:`run`)."""
    return parse_and_run("train", __doc__, add_arguments, run, argv)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``rlsched-compile train``."""
    add_out(parser, f"{DEFAULT_OUT}/; holds the checkpoint, policy.npz + policy.json, learning_curve.png, "
                    "evaluation.json")
    parser.add_argument("--models", nargs="*", default=None, metavar="MODEL.onnx",
                        help="ONNX models whose layers are trained on, comma- or space-separated "
                             "(default: model_zoo/*.onnx)")
    parser.add_argument("--held-out", nargs="*", default=list(DEFAULT_HELD_OUT), metavar="NAME",
                        help="model names (file stems) kept out of training and evaluated separately, comma- or "
                             f"space-separated (default: {','.join(DEFAULT_HELD_OUT)})")
    parser.add_argument("--targets", default=",".join(DEFAULT_TARGETS), metavar="NAME|PATH[,...]",
                        help="comma-separated target names or files (default: %(default)s)")
    parser.add_argument("--synthetic", type=int, default=16, metavar="N",
                        help="synthetic layers added per target (default: %(default)s)")
    parser.add_argument("--layers-per-model", type=int, default=None, metavar="N",
                        help="use at most N unique layers of each model, chosen with the seed (default: all)")
    parser.add_argument("--episodes", type=int, default=_PPO.episodes, metavar="N",
                        help="training episodes (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=_PPO.seed, metavar="N",
                        help="seed of everything (default: %(default)s)")
    parser.add_argument("--objective", choices=REWARD_OBJECTIVES, default=TRAIN_COMMAND_OBJECTIVE,
                        help="reward metric; mixed draws energy or cycles per episode (default: %(default)s)")
    parser.add_argument("--start", choices=("mixed", "paper", "bottom-up"), default=_PPO.start,
                        help="episode start table (default: %(default)s)")
    parser.add_argument("--bottom-up-fraction", type=float, default=_PPO.bottom_up_fraction, metavar="F",
                        help="with --start mixed: share of episodes starting from bottom-up's table "
                             "(default: %(default)s)")
    parser.add_argument("--bottom-up-targets", default=None, metavar="NAMES",
                        help="comma-separated targets whose episodes may start from bottom-up's table "
                             "(default: all targets)")
    parser.add_argument("--max-steps", type=int, default=_PPO.max_steps, metavar="N",
                        help="actions per episode (default: %(default)s)")
    parser.add_argument("--patience", type=int, default=_PPO.patience, metavar="N",
                        help="consecutive non-improving actions that end an episode early; >= --max-steps gives "
                             "fixed-length episodes, where each improvement saves a -1 reward (default: %(default)s)")
    parser.add_argument("--time-limit", type=float, default=None, metavar="SECONDS",
                        help="stop after this wall time (seconds) with a checkpoint and exit code 3; rerun to resume")
    add_deprecated_alias(parser, "--time-limit-s", "--time-limit", "time_limit", type=float)
    parser.add_argument("--eval-pairs", type=int, default=EVAL_PAIRS, metavar="N",
                        help="evaluate the result on at most N (target, layer) pairs per split (default: %(default)s)")
    parser.add_argument("--no-resume", action="store_true", help="ignore an existing checkpoint in --out")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar on stderr (-q implies it)")
    parser.add_argument("--export", default=None, metavar="PATH.npz",
                        help="also write the policy (and its .json card) to this path")


def _split_list(values: Sequence[str]) -> list[str]:
    """``["a,b", "c"]`` -> ``["a", "b", "c"]``: list options take commas, spaces, or both."""
    return [v.strip() for value in values for v in value.split(",") if v.strip()]


def _default_out() -> Path:
    """:data:`DEFAULT_OUT`, with a one-release note when a run sits in the old default folder."""
    if (_OLD_DEFAULT_OUT / "checkpoint.pt").is_file() and not DEFAULT_OUT.exists():
        logger.warning("the default output folder is now %s (it was %s, which holds an earlier run: pass "
                       "--out %s to resume it); this note goes in %s", DEFAULT_OUT, _OLD_DEFAULT_OUT,
                       _OLD_DEFAULT_OUT, REMOVAL_VERSION)
    return DEFAULT_OUT


def ppo_config(args: argparse.Namespace) -> PPOConfig:
    """The training configuration the parsed options ask for (PPOConfig's defaults for the rest)."""
    return PPOConfig(seed=args.seed, episodes=args.episodes, max_steps=args.max_steps, patience=args.patience,
                     objective=args.objective, start=args.start, bottom_up_fraction=args.bottom_up_fraction)


def run(args: argparse.Namespace) -> int:
    """Run the subcommand; returns the exit code (0: policy written, 3: stopped by the time limit)."""
    from ..rl.layers import dedupe, model_layers, synthetic_layers
    from ..rl.train import train
    from ..targets.loader import load_target

    targets: list[Target] = [load_target(name.strip()) for name in args.targets.split(",") if name.strip()]
    if not targets:
        raise RlschedError("--targets is empty: give at least one target name, e.g. --targets eyeriss")
    args.held_out = _split_list(args.held_out)
    if args.models is None:
        paths = sorted(Path("model_zoo").glob("*.onnx"))
        if not paths:
            raise RlschedError("no models: run from the repository root (model_zoo/*.onnx) or pass --models")
    else:
        paths = [Path(p) for p in _split_list(args.models)]
    out = Path(args.out) if args.out is not None else _default_out()
    by_model = model_layers(paths, per_model=args.layers_per_model, seed=args.seed)
    unknown = sorted(set(args.held_out) - set(by_model))
    if unknown:
        raise RlschedError(f"--held-out names {unknown} are not among the models {sorted(by_model)}: "
                           f"use model file stems")
    # Held-out layers are removed from training even when another model has the same shape.
    seen: set[tuple[int, ...]] = set()
    held = dedupe([layer for m in args.held_out for layer in by_model[m]], seen)
    train_layers = dedupe([layer for m, ls in by_model.items() if m not in args.held_out for layer in ls], seen)
    train_layers += dedupe(synthetic_layers(args.synthetic, seed=args.seed), seen)
    train_pairs = [(t, layer) for t in targets for layer in train_layers]
    held_pairs = [(t, layer) for t in targets for layer in held]
    config = ppo_config(args)
    bu_targets = None if args.bottom_up_targets is None else \
        {n.strip() for n in args.bottom_up_targets.split(",") if n.strip()}
    card: dict[str, Any] = {
        "command": "rlsched-compile train " + " ".join(shlex.quote(a) for a in sys.argv[2:])
        if len(sys.argv) > 1 and sys.argv[1] == "train" else "rlsched-compile train (called in-process)",
        "trained_on": {
            "targets": [t.name for t in targets],
            "models": {m: len(ls) for m, ls in by_model.items() if m not in args.held_out},
            "synthetic_layers": args.synthetic,
            "train_layers": len(train_layers),
            "held_out_models": list(args.held_out),
            "held_out_layers": len(held),
            "bottom_up_start_targets": sorted(bu_targets) if bu_targets is not None else [t.name for t in targets],
        },
    }
    logger.info("training on %d pairs, %d held out", len(train_pairs), len(held_pairs))
    summary = train(config, train_pairs=train_pairs, held_out_pairs=held_pairs, out_dir=out,
                    resume=not args.no_resume, progress=not (args.no_progress or getattr(args, "quiet", False)),
                    card=card, time_limit_s=args.time_limit, bottom_up_targets=bu_targets,
                    eval_pairs=args.eval_pairs)
    if summary.episodes < config.episodes:
        print(f"stopped at episode {summary.episodes}/{config.episodes} (time limit); rerun the same command "
              f"to resume from {summary.out_dir / 'checkpoint.pt'}")
        return 3
    if args.export:
        from ..rl.policy import load_policy, save_policy

        policy = load_policy(summary.out_dir / "policy.npz")
        names = ("w0", "b0", "w1", "b1", "w2", "b2")
        save_policy(args.export, dict(zip(names, policy.weights)),
                    {k: v for k, v in policy.card.items() if k != "format"})
    print(json.dumps({"out": str(summary.out_dir), "episodes": summary.episodes,
                      "wall_time_s": round(summary.wall_time_s, 1), "evaluation": summary.evaluation}, indent=2))
    return 0
