"""The declared tables of strategies (:mod:`rlsched_compile.search.registry`) and pipeline solvers
(:mod:`rlsched_compile.pipeline.solvers`): every entry is complete, objects are built per use from
explicit options, and an unknown name gives one line."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from rlsched_compile import Layer, RlschedError, load_target
from rlsched_compile.api import available_strategies, resolve_strategy
from rlsched_compile.errors import PipelineError
from rlsched_compile.pipeline.solvers import DEFAULT_SOLVER, SOLVERS, solve
from rlsched_compile.rl.policy import NumpyPolicy
from rlsched_compile.search import (DEFAULT_STRATEGY, STRATEGIES, Strategy, StrategyOptions, check_strategy_name,
                                    make_strategy, schedule_layer)

PACKAGE = Path(__file__).resolve().parents[2] / "rlsched_compile"


@pytest.mark.parametrize("name", list(STRATEGIES))
def test_every_declared_strategy_has_a_cache_token_and_says_whether_it_has_an_agent(name: str) -> None:
    strategy = make_strategy(name)
    assert isinstance(strategy, Strategy) and strategy.name == name
    token = strategy.cache_token()
    assert token is None or (isinstance(token, str) and token)
    assert make_strategy(name).cache_token() == token  # a value of the options, not of the object
    policy = strategy.policy()
    assert policy is None or isinstance(policy, NumpyPolicy)
    # a strategy with an agent keys the cache on its policy; one without needs no token
    assert (policy is None) == (token is None), name


def test_the_declared_default_and_listing() -> None:
    assert DEFAULT_STRATEGY in STRATEGIES
    assert available_strategies() == (sorted(STRATEGIES), DEFAULT_STRATEGY)
    assert resolve_strategy(None) == DEFAULT_STRATEGY
    assert list(STRATEGIES) == ["bottom-up", "exhaustive", "random", "row-sweep", "rl", "rl-hybrid"]


def test_each_use_builds_its_own_object_with_its_own_options(tmp_path: Path) -> None:
    assert make_strategy("rl") is not make_strategy("rl")
    missing = tmp_path / "none.npz"
    other = make_strategy("rl", StrategyOptions(policy_path=missing))
    assert other.cache_token() != make_strategy("rl").cache_token()
    with pytest.raises(RlschedError, match="does not exist"):
        other.policy()
    make_strategy("rl").policy()  # the shipped one, untouched by the other object's options


def test_schedule_layer_takes_a_strategy_object() -> None:
    target = load_target("eyeriss")
    layer = Layer("x", K=8, B=1, P=4, Q=4, C=8, R=1, S=1)
    by_name = schedule_layer(target, layer, search="bottom-up")
    by_object = schedule_layer(target, layer, search=make_strategy("bottom-up"))
    assert by_object == by_name


@pytest.mark.parametrize("check", [check_strategy_name, resolve_strategy, make_strategy])
def test_an_unknown_strategy_name_is_one_line_with_a_suggestion(check: object) -> None:
    with pytest.raises(RlschedError) as info:
        check("bottomup")  # type: ignore[operator]
    assert str(info.value) == ("unknown search strategy 'bottomup'; did you mean 'bottom-up'? choose one of "
                               "bottom-up, exhaustive, random, rl, rl-hybrid, row-sweep")


def test_every_declared_pipeline_solver_builds_a_named_solver() -> None:
    assert DEFAULT_SOLVER in SOLVERS
    for name, factory in SOLVERS.items():
        solver = factory()
        assert solver.name == name and callable(solver.solve)
        assert factory() is not solver


def test_an_unknown_pipeline_solver_is_one_line() -> None:
    from rlsched_compile.pipeline.generate import random_dag
    from rlsched_compile.pipeline.target import load_pipeline_target

    graph = random_dag(6, seed=0)
    with pytest.raises(PipelineError) as info:
        solve(graph, load_pipeline_target("edgetpu"), 2, solver="ilp")
    assert str(info.value) == "unknown pipeline solver 'ilp'; choose one of exact, greedy, param-balance, respect"


@pytest.mark.parametrize("folder", ["search", "pipeline"])
def test_no_module_registers_itself_by_a_call_at_import(folder: str) -> None:
    """The tables are the only lists: no module-level call or decorator adds to a registry."""
    for path in sorted((PACKAGE / folder).rglob("*.py")):
        tree = ast.parse(path.read_text())
        for node in tree.body:
            if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
                pytest.fail(f"{path.name}:{node.lineno}: a call at import time")
            if isinstance(node, (ast.ClassDef, ast.FunctionDef)) and node.decorator_list:
                names = [ast.unparse(d) for d in node.decorator_list]
                assert all(n.startswith(("dataclass", "functools", "property", "staticmethod", "classmethod",
                                         "runtime_checkable", "contextlib"))
                           for n in names), f"{path.name}:{node.lineno}: {names}"
