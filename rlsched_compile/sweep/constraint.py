"""The sweep file's ``constraint``: a small, safe expression language over the varied parameters.

Grammar (no ``eval``: a tokenizer and a recursive-descent parser build a tree, which is
type-checked once against the parameters' value types and then evaluated per point)::

    expr    := or
    or      := and ("or" and)*
    and     := not ("and" not)*
    not     := "not" not | compare
    compare := sum (("==" | "!=" | "<" | "<=" | ">" | ">=") sum)?
    sum     := product (("+" | "-") product)*
    product := unary (("*" | "/" | "%") unary)*
    unary   := "-" unary | atom
    atom    := NUMBER | STRING | "null" | "true" | "false" | NAME | "(" expr ")"

Names are the varied parameters plus ``target`` (the base target's name). Arithmetic and
ordering take numbers; ``==``/``!=`` compare any two values; ``and``/``or``/``not`` take booleans;
the whole expression must be a boolean. Expressions are at most :data:`MAX_LENGTH` characters and
:data:`MAX_DEPTH` levels deep, so a small file cannot cause unbounded work.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Mapping, Union

from ..errors import RlschedError

#: Longest accepted expression, characters.
MAX_LENGTH: int = 2000
#: Deepest accepted nesting of the parse tree.
MAX_DEPTH: int = 64

#: Value types of the language.
NUMBER, TEXT, BOOL, ANY = "number", "text", "boolean", "any"

_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<num>(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?)
  | (?P<str>"[^"\\]*"|'[^'\\]*')
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>==|!=|<=|>=|<|>|\+|-|\*|/|%|\(|\))
""", re.VERBOSE)
_KEYWORDS = {"and", "or", "not", "true", "false", "null"}


class ConstraintError(RlschedError):
    """The constraint cannot be parsed, type-checked or evaluated (message without a path)."""


@dataclass(frozen=True)
class Const:
    value: Any


@dataclass(frozen=True)
class Name:
    name: str


@dataclass(frozen=True)
class Unary:
    op: str
    operand: "Node"


@dataclass(frozen=True)
class Binary:
    op: str
    left: "Node"
    right: "Node"


Node = Union[Const, Name, Unary, Binary]


def _tokens(text: str) -> list[tuple[str, str, int]]:
    out: list[tuple[str, str, int]] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise ConstraintError(f"unexpected character {text[pos]!r} at column {pos + 1}")
        kind = m.lastgroup or ""
        if kind != "ws":
            out.append((kind, m.group(), pos + 1))
        pos = m.end()
    out.append(("end", "", len(text) + 1))
    return out


class _Parser:
    def __init__(self, text: str) -> None:
        self.toks = _tokens(text)
        self.i = 0
        self.depth = 0

    def peek(self) -> tuple[str, str, int]:
        return self.toks[self.i]

    def take(self) -> tuple[str, str, int]:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def accept(self, *values: str) -> str | None:
        kind, val, _ = self.peek()
        if kind in ("op", "name") and val in values:
            self.i += 1
            return val
        return None

    def enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ConstraintError(f"expression nested deeper than {MAX_DEPTH} levels")

    def parse(self) -> Node:
        node = self.or_()
        kind, val, col = self.peek()
        if kind != "end":
            raise ConstraintError(f"unexpected {val!r} at column {col}")
        return node

    def or_(self) -> Node:
        self.enter()
        node = self.and_()
        while self.accept("or"):
            node = Binary("or", node, self.and_())
        self.depth -= 1
        return node

    def and_(self) -> Node:
        node = self.not_()
        while self.accept("and"):
            node = Binary("and", node, self.not_())
        return node

    def not_(self) -> Node:
        if self.accept("not"):
            self.enter()
            node: Node = Unary("not", self.not_())
            self.depth -= 1
            return node
        return self.compare()

    def compare(self) -> Node:
        node = self.sum_()
        op = self.accept("==", "!=", "<=", ">=", "<", ">")
        if op:
            node = Binary(op, node, self.sum_())
            if self.accept("==", "!=", "<=", ">=", "<", ">"):
                raise ConstraintError("chained comparisons are not supported; join them with `and`")
        return node

    def sum_(self) -> Node:
        node = self.product()
        while True:
            op = self.accept("+", "-")
            if not op:
                return node
            node = Binary(op, node, self.product())

    def product(self) -> Node:
        node = self.unary()
        while True:
            op = self.accept("*", "/", "%")
            if not op:
                return node
            node = Binary(op, node, self.unary())

    def unary(self) -> Node:
        if self.accept("-"):
            self.enter()
            node: Node = Unary("-", self.unary())
            self.depth -= 1
            return node
        return self.atom()

    def atom(self) -> Node:
        kind, val, col = self.take()
        if kind == "num":
            num = float(val)
            return Const(int(val) if re.fullmatch(r"\d+", val) else num)
        if kind == "str":
            return Const(val[1:-1])
        if kind == "name":
            if val in ("true", "false"):
                return Const(val == "true")
            if val == "null":
                return Const(None)
            if val in _KEYWORDS:
                raise ConstraintError(f"unexpected {val!r} at column {col}")
            return Name(val)
        if kind == "op" and val == "(":
            self.enter()
            node = self.or_()
            self.depth -= 1
            if not self.accept(")"):
                k, v, c = self.peek()
                raise ConstraintError(f"expected ')' at column {c}" + (f", got {v!r}" if k != "end" else ""))
            return node
        if kind == "end":
            raise ConstraintError("the expression ends too early")
        raise ConstraintError(f"unexpected {val!r} at column {col}")


def _const_type(v: Any) -> str:
    if isinstance(v, bool):
        return BOOL
    if isinstance(v, (int, float)):
        return NUMBER
    return TEXT  # strings and null


def _check(node: Node, types: Mapping[str, str]) -> str:
    """The node's type; raises ConstraintError on an unknown name or a type mismatch."""
    if isinstance(node, Const):
        return _const_type(node.value)
    if isinstance(node, Name):
        if node.name not in types:
            known = ", ".join(sorted(types)) or "none"
            raise ConstraintError(f"unknown name {node.name!r} (known names: {known})")
        return types[node.name]
    if isinstance(node, Unary):
        t = _check(node.operand, types)
        want = BOOL if node.op == "not" else NUMBER
        if t not in (want, ANY):
            raise ConstraintError(f"`{node.op}` needs a {want}, got a {t}")
        return want
    lt, rt = _check(node.left, types), _check(node.right, types)
    if node.op in ("and", "or"):
        for t in (lt, rt):
            if t not in (BOOL, ANY):
                raise ConstraintError(f"`{node.op}` joins booleans (comparisons), got a {t}")
        return BOOL
    if node.op in ("==", "!="):
        return BOOL
    for t in (lt, rt):
        if t not in (NUMBER, ANY):
            raise ConstraintError(f"`{node.op}` needs numbers, got a {t}")
    return BOOL if node.op in ("<", "<=", ">", ">=") else NUMBER


@dataclass(frozen=True)
class Constraint:
    """A parsed, type-checked constraint.

    Attributes:
        text: the expression as written.
        tree: its parse tree.
    """

    text: str
    tree: Node

    def evaluate(self, env: Mapping[str, Any]) -> bool:
        """Whether a point with these parameter values satisfies the constraint.

        Raises:
            ConstraintError: a runtime failure (division by zero, a value of the wrong type).
        """
        result = _eval(self.tree, env)
        if not isinstance(result, bool):
            raise ConstraintError(f"the expression gives {result!r}, not true/false")
        return result


def parse_constraint(text: str, types: Mapping[str, str]) -> Constraint:
    """Parse and type-check ``text`` against the names in ``types`` (name -> value type).

    Raises:
        ConstraintError: a syntax error, an unknown name, a type mismatch or an over-long input.
    """
    if len(text) > MAX_LENGTH:
        raise ConstraintError(f"the expression is longer than {MAX_LENGTH} characters")
    if not text.strip():
        raise ConstraintError("the expression is empty")
    tree = _Parser(text).parse()
    t = _check(tree, types)
    if t not in (BOOL, ANY):
        raise ConstraintError(f"the expression must be a comparison or a boolean, not a {t}")
    return Constraint(text, tree)


def _num(v: Any, op: str) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise ConstraintError(f"`{op}` needs numbers, got {v!r}")
    return v


def _eval(node: Node, env: Mapping[str, Any]) -> Any:
    if isinstance(node, Const):
        return node.value
    if isinstance(node, Name):
        return env[node.name]
    if isinstance(node, Unary):
        v = _eval(node.operand, env)
        if node.op == "not":
            if not isinstance(v, bool):
                raise ConstraintError(f"`not` needs a boolean, got {v!r}")
            return not v
        return -_num(v, "-")
    op = node.op
    if op in ("and", "or"):
        left = _eval(node.left, env)
        if not isinstance(left, bool):
            raise ConstraintError(f"`{op}` needs booleans, got {left!r}")
        if (op == "and" and not left) or (op == "or" and left):
            return left
        right = _eval(node.right, env)
        if not isinstance(right, bool):
            raise ConstraintError(f"`{op}` needs booleans, got {right!r}")
        return right
    a, b = _eval(node.left, env), _eval(node.right, env)
    if op == "==":
        return a == b and isinstance(a, bool) == isinstance(b, bool)
    if op == "!=":
        return not (a == b and isinstance(a, bool) == isinstance(b, bool))
    x, y = _num(a, op), _num(b, op)
    if op == "<":
        return x < y
    if op == "<=":
        return x <= y
    if op == ">":
        return x > y
    if op == ">=":
        return x >= y
    if op == "+":
        r = x + y
    elif op == "-":
        r = x - y
    elif op == "*":
        r = x * y
    else:
        if y == 0:
            raise ConstraintError(f"division by zero in `{op}`")
        r = x / y if op == "/" else x % y
    if isinstance(r, float) and not math.isfinite(r):
        raise ConstraintError(f"`{op}` overflows")
    return r
