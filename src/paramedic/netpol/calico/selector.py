"""Calico label selectors: the expression tree, its evaluation and its canonical text.

Meaning (Calico's reference docs): ``k != 'v'`` and ``k not in {...}`` also match resources
without label ``k``; every other label test needs the label. ``all()`` and ``global()`` match
everything in scope; what "in scope" means is decided where the selector is used (see
`resources`, which rewrites namespace and service-account selectors as Calico does).

The parser (`parser.parse`) builds these trees; evaluation is linear in the selector's size.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Mapping

Labels = Mapping[str, str]


@dataclasses.dataclass(frozen=True, slots=True)
class Selector:
    """A parsed selector; `matches(labels)` evaluates it, `text` is its canonical form.

    It is a `form.LabelMatch` too (`key`, `keys`, `required`, `describe`), so the compiled
    form's evaluators can use it wherever they use a Kubernetes LabelSelector.
    """

    root: Node
    text: str = dataclasses.field(init=False, compare=False)
    key: str = dataclasses.field(init=False, compare=False, repr=False)
    keys: frozenset[str] = dataclasses.field(init=False, compare=False, repr=False)
    """Every label the selector reads."""
    required: Mapping[str, str] = dataclasses.field(init=False, compare=False, repr=False)
    """Labels every match carries: the top-level ``label == 'value'`` conjuncts."""

    def __post_init__(self) -> None:
        text = self.root.text(0)
        tops = self.root.operands if isinstance(self.root, And) else (self.root,)
        found = (n.label for n in self.nodes() if isinstance(n, Has | Compare | InSet))
        object.__setattr__(self, "text", text)
        object.__setattr__(self, "key", f"calico {text}")
        object.__setattr__(self, "keys", frozenset(found))
        object.__setattr__(
            self,
            "required",
            {n.label: n.value for n in tops if isinstance(n, Compare) and n.op == "=="},
        )

    def matches(self, labels: Labels) -> bool:
        return self.root.matches(labels)

    def describe(self) -> str:
        return self.text

    def nodes(self) -> Iterator[Node]:
        stack = [self.root]
        while stack:
            node = stack.pop()
            yield node
            if isinstance(node, Not):
                stack.append(node.operand)
            elif isinstance(node, And | Or):
                stack.extend(node.operands)

    def map(self, change: Callable[[Node], Node | None]) -> Selector:
        """The same tree with `change` applied bottom-up (None keeps a node as it is)."""
        return Selector(_map(self.root, change))

    def uses(self, kind: type[Node]) -> bool:
        """Whether any node of the tree is a `kind` (e.g. Global)."""
        return any(isinstance(n, kind) for n in self.nodes())

    def __str__(self) -> str:
        return self.text


class Node:
    __slots__ = ()

    def matches(self, labels: Labels) -> bool:
        raise NotImplementedError

    def text(self, precedence: int) -> str:
        raise NotImplementedError


@dataclasses.dataclass(frozen=True, slots=True)
class All(Node):
    def matches(self, labels: Labels) -> bool:
        return True

    def text(self, precedence: int) -> str:
        return "all()"


@dataclasses.dataclass(frozen=True, slots=True)
class Global(Node):
    def matches(self, labels: Labels) -> bool:
        return True

    def text(self, precedence: int) -> str:
        return "global()"


ALL = All()


@dataclasses.dataclass(frozen=True, slots=True)
class Has(Node):
    label: str

    def matches(self, labels: Labels) -> bool:
        return self.label in labels

    def text(self, precedence: int) -> str:
        return f"has({self.label})"


@dataclasses.dataclass(frozen=True, slots=True)
class Compare(Node):
    """``label <op> 'value'`` for ==, !=, contains, starts with, ends with."""

    label: str
    op: str
    value: str

    def matches(self, labels: Labels) -> bool:
        actual = labels.get(self.label)
        if actual is None:
            return self.op == "!="
        if self.op == "==":
            return actual == self.value
        if self.op == "!=":
            return actual != self.value
        if self.op == "contains":
            return self.value in actual
        if self.op == "starts with":
            return actual.startswith(self.value)
        return actual.endswith(self.value)

    def text(self, precedence: int) -> str:
        return f"{self.label} {self.op} {_quote(self.value)}"


@dataclasses.dataclass(frozen=True, slots=True)
class InSet(Node):
    """``label in {...}`` (negated=False) or ``label not in {...}`` (negated=True)."""

    label: str
    values: frozenset[str]
    negated: bool = False

    def matches(self, labels: Labels) -> bool:
        actual = labels.get(self.label)
        if actual is None:
            return self.negated
        return (actual in self.values) != self.negated

    def text(self, precedence: int) -> str:
        items = ", ".join(_quote(v) for v in sorted(self.values))
        return f"{self.label} {'not in' if self.negated else 'in'} {{{items}}}"


@dataclasses.dataclass(frozen=True, slots=True)
class Not(Node):
    operand: Node

    def matches(self, labels: Labels) -> bool:
        return not self.operand.matches(labels)

    def text(self, precedence: int) -> str:
        inner = self.operand.text(3)
        return f"!({inner})" if isinstance(self.operand, Not) else "!" + inner


@dataclasses.dataclass(frozen=True, slots=True)
class And(Node):
    operands: tuple[Node, ...]

    def matches(self, labels: Labels) -> bool:
        return all(o.matches(labels) for o in self.operands)

    def text(self, precedence: int) -> str:
        inner = " && ".join(o.text(2) for o in self.operands)
        return f"({inner})" if precedence > 2 else inner


@dataclasses.dataclass(frozen=True, slots=True)
class Or(Node):
    operands: tuple[Node, ...]

    def matches(self, labels: Labels) -> bool:
        return any(o.matches(labels) for o in self.operands)

    def text(self, precedence: int) -> str:
        inner = " || ".join(o.text(1) for o in self.operands)
        return f"({inner})" if precedence > 1 else inner


def conjoin(*parts: Selector | None) -> Selector:
    """The AND of the given selectors (None parts are skipped; nothing given selects all)."""
    nodes = tuple(p.root for p in parts if p is not None)
    if not nodes:
        return Selector(ALL)
    return Selector(nodes[0] if len(nodes) == 1 else And(nodes))


def _quote(value: str) -> str:
    return f"'{value}'" if '"' in value else f'"{value}"'


def _map(node: Node, change: Callable[[Node], Node | None]) -> Node:
    if isinstance(node, Not):
        node = Not(_map(node.operand, change))
    elif isinstance(node, And):
        node = And(tuple(_map(o, change) for o in node.operands))
    elif isinstance(node, Or):
        node = Or(tuple(_map(o, change) for o in node.operands))
    replaced = change(node)
    return node if replaced is None else replaced
