"""Training of the RESPECT pointer network (PyTorch, imported only here and only when training;
inference runs on numpy in :mod:`.decode`).

Recipe (RESPECT, DAC'23, scaled to a small CPU):

1. Seeded synthetic DAGs (|V| = 30, degree <= 6, depth drawn per graph) labelled by the exact
   solver at k stages; the label sequence lists the nodes stage by stage.
2. A pointer network (embedding -> LSTM encoder -> LSTM decoder with additive attention that
   points at the next node) samples node sequences.
3. Optional warm start (``imitation_iterations``): maximise the likelihood of the label sequences.
4. Reward: cosine similarity between the predicted stage vector (the sampled sequence cut at the
   label's stage sizes) and the optimal stage vector; optionally mixed (``cost_reward_coef``) with
   a pipeline-cost reward: the sampled sequence fixed up and cut optimally into k stages, the best
   execution-order cut's bottleneck / its bottleneck, averaged over k in [cost_reward_k_min,
   cost_reward_k_max] (what the solver does with the greedy sequence, so no labels are needed for
   those k). REINFORCE with a baseline: the mean reward of the other samples of the same graph;
   optional entropy bonus (``entropy_coef``), which keeps the sampled sequences of the solver diverse.
5. Export: ``respect.pt`` (state dict + config) and ``respect.npz`` (numpy weights, written by
   :meth:`~.network.PointerWeights.save`).

Run: ``python -m rlsched_compile.pipeline.respect [--iterations N] [--out DIR] [--dataset FILE]``
(:mod:`.__main__`; every :class:`RespectConfig` field is a flag, e.g. ``--imitation-iterations 2000
--cost-reward-coef 1.0 --entropy-coef 0.01``). Output goes to ``DIR`` (default
:data:`DEFAULT_OUT_DIR`, ``rlsched_out/respect/``), never into the package unless asked
(``--overwrite-shipped``). A dataset cached in ``DIR`` (or read from ``--dataset``) with the same
labelling settings but fewer graphs is extended: the first graphs of the seeded sequence keep their
labels.
"""
from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..._io import atomic_path, write_text_atomic
from ..._options import OUTPUT_ROOT
from ...errors import PipelineError
from ..cost import segment_cost_matrix
from ..exact import ExactSolver
from ..generate import random_dag
from ..graph import PipelineGraph
from ..target import PipelineTarget, load_pipeline_target
from .features import FEATURE_DIM, node_features
from .network import DEFAULT_WEIGHTS, PointerWeights
from .solver import fixup_order

logger = logging.getLogger(__name__)

#: Where a training run writes by default (relative to the working directory).
DEFAULT_OUT_DIR = OUTPUT_ROOT / "respect"
#: The installed package: training refuses to write anywhere inside it unless asked
#: (``overwrite_shipped``), since the shipped weights live there (:data:`~.network.DEFAULT_WEIGHTS`).
PACKAGE_DIR = Path(__file__).resolve().parents[2]
#: File name of the labelled-graph cache in an output folder.
DATASET_FILE = "respect_dataset.npz"


@dataclass(frozen=True)
class RespectConfig:
    """Hyperparameters of a RESPECT training run."""

    seed: int = 0
    """Seed of the graph generator, the initial weights and the sampling."""
    n_nodes: int = 30
    """Nodes per training graph."""
    max_degree: int = 6
    """Bound on in- and out-degree of the training graphs."""
    min_depth: int = 5
    """Smallest depth (levels) of a training graph."""
    max_depth: int = 15
    """Largest depth of a training graph."""
    n_graphs: int = 512
    """Training graphs (each labelled once by the exact solver)."""
    k: int = 4
    """Stages of the labels."""
    label_time_limit_s: float = 5.0
    """Exact-solver time limit per label (s)."""
    target: str = "edgetpu"
    """Pipeline target of the labels."""
    hidden: int = 64
    """LSTM and attention width."""
    logit_clip: float = 10.0
    """C in C * tanh(u) on the pointer logits."""
    imitation_iterations: int = 2000
    """Warm-start updates that maximise the likelihood of the label sequences (0 = pure REINFORCE)."""
    iterations: int = 1500
    """Policy-gradient updates."""
    batch_graphs: int = 16
    """Graphs per update."""
    samples_per_graph: int = 8
    """Sampled sequences per graph (their mean reward is the baseline)."""
    lr: float = 1e-3
    """Adam learning rate."""
    entropy_coef: float = 0.003
    """Weight of the entropy bonus (keeps the sampled sequences, which the solver also tries on
    graphs under 300 nodes, diverse)."""
    cost_reward_coef: float = 0.0
    """Share of the pipeline-cost reward in the policy-gradient reward (0 = the cosine reward only):
    the sampled sequence is fixed up and cut optimally into k stages, for each k in
    [cost_reward_k_min, cost_reward_k_max], and rewarded with the best execution-order cut's
    bottleneck / its bottleneck, averaged over those k."""
    cost_reward_k_min: int = 4
    """Smallest stage count of the cost reward."""
    cost_reward_k_max: int = 6
    """Largest stage count of the cost reward."""


def _torch() -> Any:
    import torch  # noqa: PLC0415  (training only, never at package import time)
    return torch


def build_model(config: RespectConfig) -> Any:
    """The pointer network as a ``torch.nn.Module`` (weights from the current torch RNG)."""
    torch = _torch()
    nn = torch.nn

    class PointerNet(nn.Module):  # type: ignore[misc,name-defined]
        def __init__(self) -> None:
            super().__init__()
            h = config.hidden
            self.embed = nn.Linear(FEATURE_DIM, h)
            self.encoder = nn.LSTM(h, h, batch_first=True)
            self.decoder = nn.LSTMCell(h, h)
            self.dec_start = nn.Parameter(torch.zeros(h).uniform_(-0.1, 0.1))
            self.att_ref = nn.Linear(h, h, bias=False)
            self.att_q = nn.Linear(h, h, bias=False)
            self.att_v = nn.Parameter(torch.zeros(h).uniform_(-0.1, 0.1))

        def forward(self, feats: Any, *, actions: Any = None, generator: Any = None) -> tuple[Any, Any, Any]:
            """Decode a sequence per graph.

            Args:
                feats: (B, n, F) features (float32 for training).
                actions: (B, n) teacher-forced choices, or None to sample (with ``generator``)
                    or, when ``generator`` is None, take the argmax.

            Returns:
                (actions (B, n), summed log-probabilities (B,), summed entropies (B,)).
            """
            bsz, n, _ = feats.shape
            emb = self.embed(feats)
            enc, (h, c) = self.encoder(emb)
            h, c = h[0], c[0]
            ref = self.att_ref(enc)
            mask = torch.zeros(bsz, n, dtype=torch.bool)
            x = self.dec_start.expand(bsz, -1)
            chosen = []
            logp_sum = torch.zeros(bsz, dtype=feats.dtype)
            ent_sum = torch.zeros(bsz, dtype=feats.dtype)
            rows = torch.arange(bsz)
            for t in range(n):
                h, c = self.decoder(x, (h, c))
                u = torch.tanh(ref + self.att_q(h)[:, None, :]) @ self.att_v
                u = config.logit_clip * torch.tanh(u)
                u = u.masked_fill(mask, float("-inf"))
                logp = torch.log_softmax(u, dim=-1)
                if actions is not None:
                    a = actions[:, t]
                elif generator is not None:
                    a = torch.multinomial(logp.exp(), 1, generator=generator)[:, 0]
                else:
                    a = logp.argmax(dim=-1)
                # Masked entries have p = 0 and logp = -inf: zero logp first (no NaN gradient).
                safe_logp = logp.masked_fill(mask, 0.0)
                ent_sum = ent_sum - (safe_logp.exp().masked_fill(mask, 0.0) * safe_logp).sum(-1)
                logp_sum = logp_sum + logp[rows, a]
                chosen.append(a)
                mask = mask.clone()
                mask[rows, a] = True
                x = emb[rows, a]
            return torch.stack(chosen, dim=1), logp_sum, ent_sum

    return PointerNet()


@dataclass(frozen=True)
class Dataset:
    """Labelled training graphs of one size.

    Attributes:
        features: (N, n, F) node features.
        stages: (N, n) optimal 0-based stage of each node.
        counts: (N, k) nodes per stage of the label.
        optimal: (N,) whether each label is proven optimal.
    """

    features: np.ndarray
    stages: np.ndarray
    counts: np.ndarray
    optimal: np.ndarray


def training_graphs(config: RespectConfig) -> list[PipelineGraph]:
    """The ``n_graphs`` seeded training DAGs (the same sequence for any ``n_graphs``)."""
    rng = np.random.default_rng(config.seed)
    graphs = []
    for i in range(config.n_graphs):
        depth = int(rng.integers(config.min_depth, config.max_depth + 1))
        graphs.append(random_dag(config.n_nodes, seed=int(rng.integers(2**31)), max_degree=config.max_degree,
                                 depth=depth, name=f"train{i}"))
    return graphs


def make_dataset(config: RespectConfig, target: PipelineTarget, *, reuse: Dataset | None = None) -> Dataset:
    """Generate ``n_graphs`` seeded DAGs and label them with the exact solver.

    Args:
        reuse: labels of the first graphs of the same seeded sequence (a dataset made with the same
            settings but fewer graphs); those graphs are generated again but not relabelled.
    """
    feats, stages, counts, optimal = [], [], [], []
    solver = ExactSolver()
    n_reused = 0 if reuse is None else min(len(reuse.stages), config.n_graphs)
    for i, graph in enumerate(training_graphs(config)):
        feats.append(node_features(graph))
        if i < n_reused:
            assert reuse is not None
            if not np.array_equal(reuse.features[i], feats[-1]):
                raise ValueError(f"reused dataset differs from the generator at graph {i}")
            stages.append(reuse.stages[i])
            counts.append(reuse.counts[i])
            optimal.append(bool(reuse.optimal[i]))
            continue
        res = solver.solve(graph, target, config.k, time_limit_s=config.label_time_limit_s)
        stages.append(res.stage_of)
        counts.append(np.bincount(res.stage_of, minlength=config.k))
        optimal.append(bool(res.optimal))
        if (i + 1) % 32 == 0:
            logger.info("labelled %d / %d graphs", i + 1, config.n_graphs)
    return Dataset(features=np.stack(feats), stages=np.asarray(stages, dtype=np.int64),
                   counts=np.asarray(counts, dtype=np.int64), optimal=np.asarray(optimal))


_LABEL_KEYS = ("seed", "n_nodes", "max_degree", "min_depth", "max_depth", "n_graphs", "k", "label_time_limit_s",
               "target")


def load_or_make_dataset(config: RespectConfig, target: PipelineTarget, path: Path, *,
                         save_to: Path | None = None) -> Dataset:
    """The labelled dataset, read from ``path`` when it was made with the same labelling settings.

    Labelling dominates the training time, and labels that hit the exact solver's time limit depend
    on machine speed; the cache makes a rerun reuse (and repeat) the same labels.

    Args:
        path: the cached dataset to read (may be missing).
        save_to: where a dataset made or extended here is written (default ``path``); a dataset
            read whole from ``path`` is not written again.
    """
    key = json.dumps({name: getattr(config, name) for name in _LABEL_KEYS}, sort_keys=True)
    reuse = None
    if path.is_file():
        with np.load(path) as data:
            if str(data["key"]) == key:
                logger.info("reusing labelled graphs from %s", path)
                return Dataset(features=data["features"], stages=data["stages"], counts=data["counts"],
                               optimal=data["optimal"])
            # Same settings but another n_graphs: the first graphs of the seeded sequence are the same.
            cached = json.loads(str(data["key"]))
            if {k: v for k, v in cached.items() if k != "n_graphs"} == \
                    {k: getattr(config, k) for k in _LABEL_KEYS if k != "n_graphs"}:
                logger.info("reusing the labels of the first %d graphs from %s", int(cached["n_graphs"]), path)
                reuse = Dataset(features=data["features"], stages=data["stages"], counts=data["counts"],
                                optimal=data["optimal"])
    dataset = make_dataset(config, target, reuse=reuse)
    with atomic_path(path if save_to is None else save_to) as tmp, open(tmp, "wb") as f:
        np.savez_compressed(f, key=np.asarray(key), features=dataset.features, stages=dataset.stages,
                            counts=dataset.counts, optimal=dataset.optimal)
    return dataset


def stage_rewards(actions: np.ndarray, stages: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Cosine similarity of the predicted and optimal stage vectors (stages counted from 1).

    Args:
        actions: (B, n) node sequences.
        stages: (B, n) optimal stage of each node.
        counts: (B, k) nodes per stage of the optimum; the sequence is cut at these sizes.

    Returns:
        (B,) rewards in (0, 1].
    """
    bsz, n = actions.shape
    pred = np.empty((bsz, n))
    for b in range(bsz):
        pos_stage = np.repeat(np.arange(counts.shape[1]), counts[b]) + 1.0
        pred[b, actions[b]] = pos_stage
    opt = stages + 1.0
    return (pred * opt).sum(1) / (np.linalg.norm(pred, axis=1) * np.linalg.norm(opt, axis=1))


def _cut_bottlenecks(seg_cost: np.ndarray, k_max: int) -> np.ndarray:
    """Optimal contiguous-cut bottleneck (s) of an order into k = 1..k_max segments (the first pass
    of :func:`~rlsched_compile.pipeline.cost.best_contiguous_cuts`)."""
    n = seg_cost.shape[0]
    by_end = np.ascontiguousarray(seg_cost.T)
    best = np.empty((k_max, n))
    best[0] = by_end[:, 0]
    prev = np.empty(n)
    for s in range(1, k_max):
        prev[0] = np.inf
        prev[1:] = best[s - 1][:-1]
        best[s] = np.maximum(by_end, prev[None, :]).min(axis=1)
    return best[:, n - 1]


class _CostReward:
    """The pipeline-cost reward of :attr:`RespectConfig.cost_reward_coef`."""

    def __init__(self, config: RespectConfig) -> None:
        self.graphs = training_graphs(config)
        self.target = load_pipeline_target(config.target)
        self.ks = np.arange(config.cost_reward_k_min, config.cost_reward_k_max + 1)
        self.ref = np.stack([self._bottlenecks(g, range(g.n)) for g in self.graphs])

    def _bottlenecks(self, graph: PipelineGraph, order: Any) -> np.ndarray:
        seg = segment_cost_matrix(graph, self.target, list(order))
        return _cut_bottlenecks(seg, int(self.ks[-1]))[self.ks - 1]

    def __call__(self, graph_idx: np.ndarray, actions: np.ndarray) -> np.ndarray:
        out = np.empty(len(graph_idx))
        for b, (g, seq) in enumerate(zip(graph_idx, actions)):
            graph = self.graphs[g]
            out[b] = np.mean(self.ref[g] / self._bottlenecks(graph, fixup_order(graph, seq.tolist())))
        return out


def train(config: RespectConfig, dataset: Dataset) -> tuple[Any, list[float]]:
    """REINFORCE on ``dataset``; returns the model and the mean reward per iteration."""
    torch = _torch()
    torch.manual_seed(config.seed)
    model = build_model(config)
    opt = torch.optim.Adam(model.parameters(), lr=config.lr)
    gen = torch.Generator().manual_seed(config.seed)
    rng = np.random.default_rng(config.seed + 1)
    feats_all = torch.from_numpy(dataset.features).float()
    history: list[float] = []
    s = config.samples_per_graph
    cost_reward = _CostReward(config) if config.cost_reward_coef > 0 and config.iterations > 0 else None
    # Warm start by imitation: the label sequence lists the nodes stage by stage, in execution order.
    n = dataset.stages.shape[1]
    labels = torch.from_numpy(np.stack([np.lexsort((np.arange(n), st)) for st in dataset.stages]))
    for it in range(config.imitation_iterations):
        idx = rng.choice(len(dataset.features), size=config.batch_graphs,
                         replace=len(dataset.features) < config.batch_graphs)
        _, logp, _ = model(feats_all[idx], actions=labels[idx])
        loss = -logp.mean()
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if it % 50 == 0 or it == config.imitation_iterations - 1:
            logger.info("imitation %d: label log-likelihood %.3f", it, -loss.item())
    for it in range(config.iterations):
        idx = rng.choice(len(dataset.features), size=config.batch_graphs,
                         replace=len(dataset.features) < config.batch_graphs)
        b_idx = np.repeat(idx, s)
        b_feats = feats_all[b_idx]
        actions, logp, ent = model(b_feats, generator=gen)
        reward = stage_rewards(actions.numpy(), dataset.stages[b_idx], dataset.counts[b_idx])
        if cost_reward is not None:
            reward = ((1.0 - config.cost_reward_coef) * reward
                      + config.cost_reward_coef * cost_reward(b_idx, actions.numpy()))
        # Baseline: mean reward of the other samples of the same graph.
        r = reward.reshape(config.batch_graphs, s)
        baseline = (r.sum(1, keepdims=True) - r) / max(1, s - 1)
        adv = torch.from_numpy((r - baseline).reshape(-1)).float()
        loss = -(adv * logp).mean() - config.entropy_coef * ent.mean()
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        history.append(float(reward.mean()))
        if it % 50 == 0 or it == config.iterations - 1:
            logger.info("iteration %d: mean reward %.4f", it, history[-1])
    return model, history


def export_weights(model: Any, config: RespectConfig) -> PointerWeights:
    """The model's weights as :class:`~.network.PointerWeights` (float32 arrays, as trained; the
    LSTM's two bias vectors summed)."""
    sd = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
    return PointerWeights(
        embed_w=sd["embed.weight"], embed_b=sd["embed.bias"],
        enc_w_ih=sd["encoder.weight_ih_l0"], enc_w_hh=sd["encoder.weight_hh_l0"],
        enc_b=sd["encoder.bias_ih_l0"] + sd["encoder.bias_hh_l0"],
        dec_w_ih=sd["decoder.weight_ih"], dec_w_hh=sd["decoder.weight_hh"],
        dec_b=sd["decoder.bias_ih"] + sd["decoder.bias_hh"],
        dec_start=sd["dec_start"], att_w_ref=sd["att_ref.weight"], att_w_q=sd["att_q.weight"],
        att_v=sd["att_v"], logit_clip=config.logit_clip,
    )


def check_out_dir(out_dir: str | Path, *, overwrite_shipped: bool = False) -> Path:
    """``out_dir``, refused when it lies inside the installed package (unless ``overwrite_shipped``).

    Raises:
        PipelineError: ``out_dir`` is inside the package and ``overwrite_shipped`` is False.
    """
    out_dir = Path(out_dir)
    resolved = out_dir.resolve()
    if not overwrite_shipped and (resolved == PACKAGE_DIR or PACKAGE_DIR in resolved.parents):
        raise PipelineError(
            f"refusing to write training output into the package ({out_dir}): it holds the shipped "
            f"weights ({DEFAULT_WEIGHTS.name}); pass --out DIR elsewhere (default {DEFAULT_OUT_DIR}/), "
            "or --overwrite-shipped to replace the shipped files on purpose")
    return out_dir


def train_respect(config: RespectConfig, *, out_dir: str | Path = DEFAULT_OUT_DIR,
                  dataset: str | Path | None = None, overwrite_shipped: bool = False) -> Path:
    """Label, train and export; returns the path of ``respect.npz``.

    Writes ``respect.pt`` (state dict, config, reward history), ``respect.npz`` and
    ``respect_train.json`` into ``out_dir``, and the labelled graphs into
    ``out_dir/respect_dataset.npz`` when they are made or extended here.

    Args:
        config: the hyperparameters.
        out_dir: the output folder (default ``rlsched_out/respect/``).
        dataset: labelled graphs to reuse (default ``out_dir/respect_dataset.npz``); e.g. the
            shipped ``rlsched_compile/data/respect/respect_dataset.npz``, read, never written.
        overwrite_shipped: allow ``out_dir`` inside the package (replacing the shipped weights).

    Raises:
        PipelineError: ``out_dir`` is inside the package and ``overwrite_shipped`` is False.
    """
    out_dir = check_out_dir(out_dir, overwrite_shipped=overwrite_shipped)
    torch = _torch()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = load_pipeline_target(config.target)
    t0 = time.perf_counter()
    cache = out_dir / DATASET_FILE
    data = load_or_make_dataset(config, target, cache if dataset is None else Path(dataset), save_to=cache)
    t_label = time.perf_counter() - t0
    logger.info("labelled %d graphs in %.1f s (%d proven optimal)", len(data.stages), t_label,
                int(data.optimal.sum()))
    model, history = train(config, data)
    t_train = time.perf_counter() - t0 - t_label
    logger.info("trained %d iterations in %.1f s", config.iterations, t_train)
    with atomic_path(out_dir / "respect.pt") as tmp:
        torch.save({"config": asdict(config), "state_dict": model.state_dict(), "reward_history": history,
                    "label_seconds": t_label, "train_seconds": t_train}, tmp)
    npz = out_dir / "respect.npz"
    export_weights(model, config).save(npz)
    write_text_atomic(out_dir / "respect_train.json", json.dumps({
        "config": asdict(config), "label_seconds": round(t_label, 1), "train_seconds": round(t_train, 1),
        "labels_proven_optimal": int(data.optimal.sum()),
        "mean_reward_first_50": float(np.mean(history[:50])),
        "mean_reward_last_50": float(np.mean(history[-50:]))}, indent=2) + "\n")
    return npz
