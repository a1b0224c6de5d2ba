"""Training of the scheduling agent over a distribution of layers x targets (torch).

:func:`train` runs PPO (``ppo.py``) on :class:`~.env.SchedulingEnv`, writes a resumable checkpoint,
the learning curve (``learning_curve.png``, reward and metric ratio per episode) and the exported
numpy policy (``policy.npz`` + ``policy.json``) into one output folder, and evaluates the result on
the training layers and, separately, on held-out layers.

Everything is seeded: the task of episode ``e`` is drawn with seed ``seed * 1_000_003 + e``, action
sampling and minibatch shuffling use one torch generator saved in the checkpoint, and torch runs
deterministically on one thread, so a run (resumed or not) repeats exactly.
"""
from __future__ import annotations

import dataclasses
import io
import json
import logging
import math
import os
import pickle
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Collection, Sequence

import numpy as np
import torch

from .._io import write_bytes_atomic
from ..errors import RlschedError, SearchError
from ..layer import Layer
from ..objective import Objective
from ..targets.model import Target
from .config import EVAL_PAIRS, PPOConfig, entropy_coef
from .env import SchedulingEnv, Task
from .mdp import SearchRowsFn, paper_start_table
from .policy import NumpyPolicy, improve_table, save_policy
from .ppo import ActorCritic, collect_rollout, compute_gae, make_optimizers, ppo_update, seed_everything

logger = logging.getLogger(__name__)

CHECKPOINT = "checkpoint.pt"
#: The objectives of ``--objective mixed`` (training draws one per episode) and of the evaluation.
MIXED_OBJECTIVES: tuple[Objective, ...] = (Objective.ENERGY, Objective.CYCLES)
#: ``start_fn(target, layer, objective, kind) -> (table, energy_pj, cycles)`` for kind ``paper`` / ``bottom-up``.
StartFn = Callable[[Target, Layer, Objective, str], tuple[np.ndarray, float, float]]


def native_start_fn() -> StartFn:
    """Start tables from the C library: the paper's all-in-DRAM table or the bottom-up heuristic's.

    A paper start that breaks a hardware rule (e.g. a fixed mapping) falls back to bottom-up.
    Results are memoized.
    """
    from ..native.costmodel import evaluate_table
    from ..native.search import bottom_up

    memo: dict[tuple[Any, ...], tuple[np.ndarray, float, float]] = {}

    def start(target: Target, layer: Layer, objective: Objective, kind: str) -> tuple[np.ndarray, float, float]:
        key = (target.sha256, layer.signature(), objective, kind)
        if key not in memo:
            if kind == "paper":
                table = paper_start_table(layer)
                ev = evaluate_table(target, layer, table)
                if not ev.valid:
                    return start(target, layer, objective, "bottom-up")
                memo[key] = (table, ev.energy_pj, ev.cycles)
            else:
                res = bottom_up(target, layer, objective)
                memo[key] = (np.array(res.table), res.energy_pj, res.cycles)
        return memo[key]

    return start


@dataclass(frozen=True)
class TrainSummary:
    """What a training run produced.

    Attributes:
        out_dir: folder with checkpoint, policy, curve and evaluation.
        episodes: episodes trained in total.
        wall_time_s: wall time of this call, seconds.
        evaluation: per-split mean ratios (see :func:`evaluate_policy`).
    """

    out_dir: Path
    episodes: int
    wall_time_s: float
    evaluation: dict[str, Any]


def _make_sampler(config: PPOConfig, pairs: Sequence[tuple[Target, Layer]], start_fn: StartFn,
                  bottom_up_targets: Collection[str] | None) -> Callable[[np.random.Generator], Task]:
    objectives = MIXED_OBJECTIVES if config.objective == "mixed" else (Objective.parse(config.objective),)

    def sample(rng: np.random.Generator) -> Task:
        target, layer = pairs[int(rng.integers(len(pairs)))]
        objective = objectives[int(rng.integers(len(objectives)))]
        if config.start == "mixed":
            kind = "bottom-up" if rng.random() < config.bottom_up_fraction else "paper"
        else:
            kind = config.start
        if kind == "bottom-up" and bottom_up_targets is not None and target.name not in bottom_up_targets:
            kind = "paper"
        table, energy_pj, cycles = start_fn(target, layer, objective, kind)
        return Task(target=target, layer=layer, objective=objective, start_table=table,
                    start_energy_pj=energy_pj, start_cycles=cycles, start=kind)

    return sample


def export_weights(model: ActorCritic) -> dict[str, np.ndarray]:
    """The actor's weights under the names :mod:`.policy` reads."""
    linears = [m for m in model.actor if isinstance(m, torch.nn.Linear)]
    out: dict[str, np.ndarray] = {}
    for k, lin in enumerate(linears):
        out[f"w{k}"] = lin.weight.detach().cpu().numpy().astype(np.float32)
        out[f"b{k}"] = lin.bias.detach().cpu().numpy().astype(np.float32)
    return out


def load_actor_weights(model: ActorCritic, policy: NumpyPolicy) -> None:
    """Copy a numpy policy's weights into the actor (the inverse of :func:`export_weights`)."""
    linears = [m for m in model.actor if isinstance(m, torch.nn.Linear)]
    with torch.no_grad():
        for k, lin in enumerate(linears):
            w, b = policy.weights[2 * k], policy.weights[2 * k + 1]
            if tuple(lin.weight.shape) != w.shape:
                raise RlschedError(f"policy layer {k} has shape {w.shape}, the network {tuple(lin.weight.shape)}: "
                                   f"use the same --hidden size as the policy")
            lin.weight.copy_(torch.as_tensor(w, dtype=torch.float32))
            lin.bias.copy_(torch.as_tensor(b, dtype=torch.float32))


def finetune_policy(policy: NumpyPolicy, pairs: Sequence[tuple[Target, Layer]], *, steps: int,
                    out_dir: str | os.PathLike[str], seed: int = 0, objective: str | None = None,
                    progress: bool = False) -> NumpyPolicy:
    """Fine-tune a policy on given (target, layer) pairs for about ``steps`` environment steps.

    Used by ``--rl-finetune STEPS``: PPO continues from the policy's actor (fresh critic), with the
    policy's episode limits and the final entropy weight c2, on fixed-length episodes that start from
    the paper's or bottom-up's table, for ``objective`` (None: the policy's own). Returns the
    fine-tuned policy (also written to ``out_dir``).
    """
    base = PPOConfig.from_dict(policy.card["config"]) if "config" in policy.card else PPOConfig()
    episodes = max(1, math.ceil(steps / base.max_steps))
    config = dataclasses.replace(base, seed=seed, episodes=episodes, c2_initial=base.c2_final, c2_hold_episodes=0,
                                 objective=objective or base.objective)
    summary = train(config, train_pairs=pairs, out_dir=out_dir, resume=False, progress=progress,
                    card={"finetuned_from": dict(policy.card)}, evaluate=False, init_policy=policy)
    from .policy import load_policy

    return load_policy(summary.out_dir / "policy.npz")


def plot_learning_curve(history: Sequence[dict[str, Any]], path: Path) -> None:
    """Reward and final/initial metric ratio per episode (with a moving average), PNG, atomic."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ep = np.arange(len(history))
    reward = np.array([h["reward"] for h in history], dtype=float)
    fig, axes = plt.subplots(2, 1, figsize=(8, 6), sharex=True)
    window = max(1, len(history) // 50)

    def smooth(y: np.ndarray) -> np.ndarray:
        return np.convolve(y, np.ones(window) / window, mode="valid") if len(y) >= window else y

    axes[0].plot(ep, reward, lw=0.5, alpha=0.4)
    axes[0].plot(ep[window - 1:], smooth(reward), lw=1.5)
    axes[0].set_ylabel("episode reward")
    for kind, color in (("paper", "tab:blue"), ("bottom-up", "tab:orange")):
        sel = [i for i, h in enumerate(history) if h["start"] == kind]
        if sel:
            ratio = np.array([history[i]["metric_ratio"] for i in sel])
            axes[1].plot(np.array(sel), ratio, ".", ms=2, alpha=0.3, color=color)
            # geometric moving average: the ratios span orders of magnitude
            axes[1].plot(np.array(sel)[window - 1:] if len(sel) >= window else np.array(sel),
                         np.exp(smooth(np.log(ratio))), color=color, label=f"start: {kind}")
    axes[1].set_yscale("log")
    axes[1].set_ylabel("final / start metric (geo. mean)")
    axes[1].set_xlabel("episode")
    axes[1].legend()
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, metadata={"Software": None})
    plt.close(fig)
    write_bytes_atomic(path, buf.getvalue())


def evaluate_policy(policy: NumpyPolicy, pairs: Sequence[tuple[Target, Layer]], *, start_fn: StartFn,
                    objectives: Sequence[Objective | str] = MIXED_OBJECTIVES, sampled_rollouts: int = 3,
                    search_rows: SearchRowsFn | None = None) -> dict[str, Any]:
    """Mean log-ratio of the agent's best table to bottom-up's, over layers x objectives.

    Two settings: ``agent_alone`` (from the paper's start, no fallback) and ``from_bottom_up``
    (started from bottom-up's table, so never worse). Ratios < 1 mean better than bottom-up.
    """
    logs: dict[str, list[float]] = {"agent_alone": [], "from_bottom_up": []}
    for target, layer in pairs:
        for objective in map(Objective.parse, objectives):
            try:
                bu = start_fn(target, layer, objective, "bottom-up")
            except SearchError:
                continue
            bu_metric = objective.measure(bu[1], bu[2])
            for setting, kind in (("agent_alone", "paper"), ("from_bottom_up", "bottom-up")):
                table, e, c = start_fn(target, layer, objective, kind)
                res = improve_table(target, layer, table, start_energy_pj=e, start_cycles=c, objective=objective,
                                    policy=policy, sampled_rollouts=sampled_rollouts, search_rows=search_rows)
                m = objective.of(res)
                logs[setting].append(math.log(m / bu_metric))
    return {k: {"n": len(v), "geomean_ratio_vs_bottom_up": float(math.exp(np.mean(v))) if v else None,
                "worst_ratio": float(math.exp(max(v))) if v else None,
                "best_ratio": float(math.exp(min(v))) if v else None}
            for k, v in logs.items()}


def _subset(pairs: Sequence[tuple[Target, Layer]], n: int, seed: int) -> list[tuple[Target, Layer]]:
    """At most ``n`` pairs, a seeded sample in the original order."""
    if len(pairs) <= n:
        return list(pairs)
    keep = sorted(np.random.default_rng(seed).choice(len(pairs), size=n, replace=False).tolist())
    return [pairs[i] for i in keep]


def _progress(done: int, total: int, started: float, history: Sequence[dict[str, Any]]) -> None:
    width = 30
    filled = int(width * done / max(total, 1))
    recent = history[-50:]
    reward = np.mean([h["reward"] for h in recent]) if recent else 0.0
    ratio = math.exp(np.mean([math.log(h["metric_ratio"]) for h in recent])) if recent else 1.0
    elapsed = time.monotonic() - started
    sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] episode {done}/{total} "
                     f"reward {reward:7.2f} ratio {ratio:.3f} {elapsed:6.0f}s")
    sys.stderr.flush()


def train(config: PPOConfig, *, train_pairs: Sequence[tuple[Target, Layer]],
          held_out_pairs: Sequence[tuple[Target, Layer]] = (), out_dir: str | os.PathLike[str],
          start_fn: StartFn | None = None, search_rows: SearchRowsFn | None = None, resume: bool = True,
          progress: bool = True, card: dict[str, Any] | None = None, evaluate: bool = True,
          time_limit_s: float | None = None, eval_pairs: int = EVAL_PAIRS,
          bottom_up_targets: Collection[str] | None = None, init_policy: NumpyPolicy | None = None
          ) -> TrainSummary:
    """Train (or resume) a policy and export it.

    Args:
        config: hyper-parameters.
        train_pairs: (target, layer) pairs episodes are drawn from.
        held_out_pairs: pairs never trained on, evaluated separately.
        out_dir: output folder (checkpoint, policy, curve, evaluation).
        start_fn: start-table provider (default: :func:`native_start_fn`).
        search_rows: row search (default: the C one).
        resume: continue from ``out_dir/checkpoint.pt`` when it exists.
        progress: draw a progress bar on stderr.
        card: extra fields for the policy card (command, data description).
        evaluate: evaluate the exported policy on train and held-out pairs.
        bottom_up_targets: names of the targets whose episodes may start from bottom-up's table
            (None: all); on the others every episode starts from the paper's table (bottom-up can
            take seconds per layer there); the final evaluation also uses only these targets.
        init_policy: start the actor from these weights (fine-tuning; the critic starts fresh).
        eval_pairs: evaluate on at most this many pairs of each split (a seeded sample).
        time_limit_s: stop (after a whole update, checkpoint written) once this much wall time has
            passed; the run can then be resumed.

    Raises:
        RlschedError: empty training set, or a checkpoint trained with a different configuration.
    """
    if not train_pairs:
        raise RlschedError("no training layers: give at least one target and one layer source")
    started = time.monotonic()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    start_fn = start_fn or native_start_fn()
    generator = seed_everything(config.seed)
    model = ActorCritic(hidden=config.hidden)
    if init_policy is not None:
        load_actor_weights(model, init_policy)
    optimizers = make_optimizers(model, config)
    history: list[dict[str, Any]] = []
    updates: list[dict[str, float]] = []
    trained_s = 0.0
    ckpt_path = out / CHECKPOINT
    if resume and ckpt_path.is_file():
        ckpt = load_checkpoint(ckpt_path)
        if PPOConfig.from_dict(ckpt["config"]) != config:
            raise RlschedError(f"checkpoint {str(ckpt_path)!r} was trained with a different configuration: "
                               f"use the same options, another --out folder, or --no-resume")
        try:
            model.load_state_dict(ckpt["model"])
            optimizers[0].load_state_dict(ckpt["actor_optimizer"])
            optimizers[1].load_state_dict(ckpt["critic_optimizer"])
            generator.set_state(ckpt["generator"])
        except (RuntimeError, ValueError, KeyError, TypeError) as exc:
            raise _bad_checkpoint(ckpt_path, f"its weights do not fit this agent ({_first_line(exc)})") from None
        history, updates, trained_s = ckpt["history"], ckpt["updates"], ckpt["trained_s"]
        logger.info("resuming from episode %d", len(history))
    env = SchedulingEnv(_make_sampler(config, train_pairs, start_fn, bottom_up_targets), search_rows=search_rows,
                        max_steps=config.max_steps, patience=config.patience)
    stopped_early = False
    while len(history) < config.episodes:
        first = len(history)
        n = min(config.episodes_per_update, config.episodes - first)
        seeds = [config.seed * 1_000_003 + first + k for k in range(n)]
        rollout = collect_rollout(env, model, episodes=n, generator=generator, seeds=seeds,
                                  mask_logit=config.mask_logit)
        adv, ret = compute_gae(rollout.rewards, rollout.values, rollout.dones, gamma=config.gamma,
                               lam=config.gae_lambda)
        c2 = entropy_coef(config, first)
        metrics = ppo_update(model, optimizers, rollout, adv, ret, config=config, c2=c2, generator=generator)
        updates.append({"episode": first, "charts/c2": c2, **metrics})
        for k, ep in enumerate(rollout.episodes):
            history.append({"episode": first + k, "c2": c2, **ep})
        if progress:
            _progress(len(history), config.episodes, started, history)
        last = len(history) >= config.episodes
        over_time = time_limit_s is not None and time.monotonic() - started > time_limit_s
        if last or over_time or len(updates) % 25 == 0:
            _save_checkpoint(ckpt_path, model, optimizers, generator, config, history, updates,
                             trained_s + time.monotonic() - started)
        if over_time and not last:
            stopped_early = True
            break
    if progress:
        sys.stderr.write("\n")
    wall = time.monotonic() - started
    total_s = trained_s + wall
    plot_learning_curve(history, out / "learning_curve.png")
    write_bytes_atomic(out / "history.json", json.dumps({"episodes": history, "updates": updates}).encode())
    evaluation: dict[str, Any] = {}
    if not stopped_early:
        weights = export_weights(model)
        policy_card = {
            **(card or {}),
            "episodes": len(history),
            "training_wall_time_s": round(total_s, 1),
            "config": config.to_dict(),
            "inference": {"max_steps": config.max_steps, "patience": config.patience},
        }
        policy = NumpyPolicy(weights=tuple(weights[k].astype(np.float64) for k in ("w0", "b0", "w1", "b1", "w2", "b2")),
                             card=policy_card)
        if evaluate:
            # Evaluation needs bottom-up's table of every pair: only on targets where it is affordable.
            def affordable(pairs: Sequence[tuple[Target, Layer]]) -> list[tuple[Target, Layer]]:
                return [p for p in pairs if bottom_up_targets is None or p[0].name in bottom_up_targets]

            evaluation = {"train": evaluate_policy(policy, _subset(affordable(train_pairs), eval_pairs, config.seed),
                                                   start_fn=start_fn, search_rows=search_rows),
                          "held_out": evaluate_policy(policy, _subset(affordable(held_out_pairs), eval_pairs,
                                                                      config.seed),
                                                      start_fn=start_fn, search_rows=search_rows)}
            policy_card["evaluation"] = evaluation
        save_policy(out / "policy.npz", weights, policy_card)
        write_bytes_atomic(out / "evaluation.json", (json.dumps(evaluation, indent=2) + "\n").encode())
    return TrainSummary(out_dir=out, episodes=len(history), wall_time_s=wall, evaluation=evaluation)


#: Keys of a checkpoint and the Python type each must have.
_CHECKPOINT_KEYS: dict[str, type | tuple[type, ...]] = {
    "config": dict, "model": dict, "actor_optimizer": dict, "critic_optimizer": dict,
    "generator": torch.Tensor, "history": list, "updates": list, "trained_s": (int, float)}


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _bad_checkpoint(path: Path, why: str) -> RlschedError:
    return RlschedError(f"checkpoint {str(path)!r} cannot be resumed: {why}; delete it (or pass "
                        f"--no-resume, or another --out folder) to start afresh")


def load_checkpoint(path: Path) -> dict[str, Any]:
    """Read a training checkpoint written by this module, safely.

    ``torch.load`` runs with ``weights_only=True``: only tensors, plain containers and numbers are
    unpickled, so a planted file cannot run code (anything else is refused). The keys and their
    types are checked too.

    Raises:
        RlschedError: one line: the file is not a checkpoint of this tool (corrupt, truncated,
            holding other objects than weights, or missing keys).
    """
    try:
        ckpt = torch.load(path, weights_only=True, map_location="cpu")
    except pickle.UnpicklingError:  # torch's message for a refused global spans many lines
        raise _bad_checkpoint(path, "it is not a weights-only checkpoint of this tool (it holds objects "
                                    "other than tensors and plain data, which are never loaded)") from None
    except Exception as exc:  # corrupt or truncated zip, truncated pickle, ...
        raise _bad_checkpoint(path, f"it is not a weights-only checkpoint of this tool "
                                    f"({type(exc).__name__}: {_first_line(exc)[:160]})") from None
    if not isinstance(ckpt, dict):
        raise _bad_checkpoint(path, f"it holds a {type(ckpt).__name__}, not a checkpoint mapping")
    for key, kind in _CHECKPOINT_KEYS.items():
        if not isinstance(ckpt.get(key), kind):
            raise _bad_checkpoint(path, f"its {key!r} entry is missing or of the wrong type")
    try:
        PPOConfig.from_dict(ckpt["config"])
    except Exception as exc:
        raise _bad_checkpoint(path, f"its configuration is not valid ({_first_line(exc)[:160]})") from None
    return ckpt


def _save_checkpoint(path: Path, model: ActorCritic, optimizers: tuple[Any, Any], generator: torch.Generator,
                     config: PPOConfig, history: list[dict[str, Any]], updates: list[dict[str, float]],
                     trained_s: float) -> None:
    buf = io.BytesIO()
    torch.save({"config": config.to_dict(), "model": model.state_dict(), "actor_optimizer": optimizers[0].state_dict(),
                "critic_optimizer": optimizers[1].state_dict(), "generator": generator.get_state(),
                "history": history, "updates": updates, "trained_s": trained_s}, buf)
    write_bytes_atomic(path, buf.getvalue())
