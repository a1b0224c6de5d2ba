"""The scheduling MDP: action masks, reward eq. (1), the current-row rule, observations."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rlsched_compile.layer import Layer
from rlsched_compile.native.costmodel import evaluate_table
from rlsched_compile.rl.mdp import (DRAM_ROW, N_ACTIONS, OBS_DIM, PAIRS, REGISTER_ROW, SchedulingMDP,
                                    action_named_rows, action_rows, legal_actions, paper_start_table, reward)
from rlsched_compile.table import writable_mask as writable_rows


def make_mdp(target, layer, **kw) -> SchedulingMDP:
    table = paper_start_table(layer)
    ev = evaluate_table(target, layer, table)
    return SchedulingMDP(target, layer, table, start_energy_pj=ev.energy_pj, start_cycles=ev.cycles, **kw)


def test_action_space_layout():
    assert N_ACTIONS == 55 and len(PAIRS) == 45
    assert action_named_rows(3) == (3,)
    assert action_named_rows(10) == (0, 1)
    assert action_named_rows(54) == (8, 9)
    assert action_rows(10 + PAIRS.index((3, 6)), DRAM_ROW) == (3, 6, 9)
    with pytest.raises(ValueError, match="out of range"):
        action_named_rows(55)


def test_writable_rows_of_eyeriss(eyeriss):
    # eyeriss: PE array 14x12, LB, GB, DRAM; no MAC array, no chips
    assert np.flatnonzero(writable_rows(eyeriss)).tolist() == [3, 4, 5, 6, 9]


@pytest.mark.parametrize("target_name", ["eyeriss", "eyeriss_v2", "tpu_v3", "simba"])
def test_mask_excludes_register_absent_and_current_rows(target_name):
    from rlsched_compile.targets import load_target

    target = load_target(target_name)
    writable = writable_rows(target)
    for current in np.flatnonzero(writable):
        mask = legal_actions(writable, int(current))
        assert mask.any()
        for a in np.flatnonzero(mask):
            named = action_named_rows(int(a))
            rows = action_rows(int(a), int(current))
            assert REGISTER_ROW not in rows
            assert current not in named
            assert all(writable[r] for r in rows)
            assert len(rows) == len(named) + 1 >= 2
        # every action naming an unwritable row, or the current row, is masked
        for a in np.flatnonzero(~mask):
            named = action_named_rows(int(a))
            assert current in named or not all(writable[r] for r in named)


def test_unwritable_current_row_has_no_legal_action(eyeriss):
    assert not legal_actions(writable_rows(eyeriss), REGISTER_ROW).any()


@pytest.mark.parametrize("before,after,multi,streak,expected", [
    (100.0, 80.0, False, 0, (15 * 20 / 200, 0, True)),     # two-row improvement: 15 * delta / M_init
    (100.0, 80.0, True, 5, (10 * 20 / 200, 0, True)),      # multi-row improvement resets the streak
    (100.0, 100.0, False, 2, (-1.0, 0, False)),            # non-improving two-row: -1, streak broken
    (100.0, 100.0, True, 0, (-1.0, 1, False)),             # 1st non-improving multi-row: -1
    (100.0, 100.0, True, 2, (-1.0, 3, False)),             # 3rd: still -1
    (100.0, 100.0, True, 3, (-2.0, 4, False)),             # 4th: -1 - (4 - 3)
    (100.0, 100.0, True, 6, (-5.0, 7, False)),             # 7th: -1 - (7 - 3)
])
def test_reward_eq1(before, after, multi, streak, expected):
    r, new_streak, improved = reward(metric_before=before, metric_after=after, metric_init=200.0,
                                     multi_row=multi, streak=streak)
    assert r == pytest.approx(expected[0])
    assert (new_streak, improved) == expected[1:]


def test_step_moves_factors_and_follows_the_row_rule(eyeriss, small_layers):
    mdp = make_mdp(eyeriss, small_layers[0])
    assert mdp.current_row == DRAM_ROW
    action = 10 + PAIRS.index((4, 6))  # PE(X), GlobalBuffer with DRAM
    obs, r, done, info = mdp.step(action)
    assert info.rows == (4, 6, 9) and info.improved and r > 0
    # the current row moved to the touched row (not DRAM) whose product grew most
    grow = {row: np.prod(mdp.table[row]) for row in (4, 6)}
    assert mdp.current_row == max(grow, key=lambda k: (grow[k], k))
    assert obs.shape == (OBS_DIM,) and obs.dtype == np.float32
    # the column products are preserved
    assert tuple(np.prod(mdp.table, axis=0)) == small_layers[0].per_group()


def test_non_improving_step_moves_to_first_named_row(eyeriss, small_layers):
    mdp = make_mdp(eyeriss, small_layers[0])
    for _ in range(30):  # find a non-improving legal action by repeating one until it stops improving
        a = int(np.flatnonzero(mdp.action_mask())[0])
        first = action_named_rows(a)[0]
        _, _, done, info = mdp.step(a)
        if not info.improved:
            assert mdp.current_row == first
            break
        if done:
            pytest.fail("episode ended before a non-improving step")


def test_illegal_action_is_rejected(eyeriss, small_layers):
    mdp = make_mdp(eyeriss, small_layers[0])
    with pytest.raises(ValueError, match="illegal"):
        mdp.step(DRAM_ROW)  # names the current row


def test_episode_ends_after_patience(eyeriss, small_layers):
    mdp = make_mdp(eyeriss, small_layers[1], max_steps=100, patience=3)
    a = int(np.flatnonzero(mdp.action_mask())[0])
    while not mdp.done:
        mask = mdp.action_mask()
        mdp.step(a if mask[a] else int(np.flatnonzero(mask)[0]))
    assert mdp.idle == 3 or mdp.steps == 100


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), layer_index=st.integers(0, 2), target_name=st.sampled_from(["eyeriss", "simba"]))
def test_every_legal_action_leads_to_a_valid_state(seed, layer_index, target_name):
    from rlsched_compile.targets import load_target

    target = load_target(target_name)
    layer = [Layer("a", K=32, B=1, P=14, Q=14, C=16, R=3, S=3), Layer("b", K=64, B=1, P=7, Q=7, C=32, R=1, S=1),
             Layer("c", K=16, B=1, P=14, Q=14, C=16, R=3, S=3, G=16)][layer_index]
    mdp = make_mdp(target, layer, max_steps=12)
    rng = np.random.default_rng(seed)
    metric = mdp.metric(mdp.energy_pj, mdp.cycles)
    while not mdp.done:
        mdp.step(int(rng.choice(np.flatnonzero(mdp.action_mask()))))
        ev = evaluate_table(target, layer, mdp.table)
        assert ev.valid
        assert ev.energy_pj == pytest.approx(mdp.energy_pj, rel=1e-12)
        new = mdp.metric(mdp.energy_pj, mdp.cycles)
        assert new <= metric
        metric = new
