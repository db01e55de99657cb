"""The Calico selector parser: tokens in, a `selector.Selector` out, errors with their column.

Grammar (Calico's; lowest precedence first), over the tokens of `tokens`:

    selector   := or-expr | <empty>                      (empty or blank selects everything)
    or-expr    := and-expr ( "||" and-expr )*
    and-expr   := operation ( "&&" operation )*
    operation  := "!"* ( match | "(" or-expr ")" )
    match      := all() | global() | has(label)
                | label ("==" | "!=" | "contains" | "starts with" | "ends with") string
                | label ("in" | "not in") "{" [ string ( "," string )* [","] ] "}"

Leading ``!``s are collapsed (``!!x`` is ``x``) and bind to one operation, as in Calico.
Parsing is linear in the selector's length (and cached: policies repeat selectors, and a
parsed selector is immutable); nesting deeper than `MAX_DEPTH` parentheses is
refused with a clear error instead of exhausting the stack.
"""

from __future__ import annotations

import functools

from paramedic.netpol.calico import selector as sel
from paramedic.netpol.calico import tokens as tok

MAX_DEPTH = 64


@functools.lru_cache(maxsize=65536)
def parse(text: str) -> sel.Selector:
    """Parse a Calico selector. Raises tokens.SelectorError naming the column of the problem."""
    stream = tok.tokenize(text)
    if stream[0].kind is tok.Kind.EOF:
        return sel.Selector(sel.ALL)
    parser = _Parser(stream)
    root = parser.or_expr(0)
    if parser.peek.kind is not tok.Kind.EOF:
        raise tok.SelectorError(
            f"unexpected {parser.peek.describe()} after a complete expression", parser.peek.column
        )
    return sel.Selector(root)


_COMPARISONS = {
    tok.Kind.EQ: "==",
    tok.Kind.NE: "!=",
    tok.Kind.CONTAINS: "contains",
    tok.Kind.STARTS_WITH: "starts with",
    tok.Kind.ENDS_WITH: "ends with",
}


class _Parser:
    __slots__ = ("_i", "_tokens")

    def __init__(self, stream: list[tok.Token]) -> None:
        self._tokens = stream
        self._i = 0

    @property
    def peek(self) -> tok.Token:
        return self._tokens[self._i]

    def _take(self) -> tok.Token:
        token = self._tokens[self._i]
        if token.kind is not tok.Kind.EOF:
            self._i += 1
        return token

    def or_expr(self, depth: int) -> sel.Node:
        operands = [self.and_expr(depth)]
        while self.peek.kind is tok.Kind.OR:
            self._take()
            operands.append(self.and_expr(depth))
        return operands[0] if len(operands) == 1 else sel.Or(tuple(operands))

    def and_expr(self, depth: int) -> sel.Node:
        operands = [self.operation(depth)]
        while self.peek.kind is tok.Kind.AND:
            self._take()
            operands.append(self.operation(depth))
        return operands[0] if len(operands) == 1 else sel.And(tuple(operands))

    def operation(self, depth: int) -> sel.Node:
        negated = False
        while self.peek.kind is tok.Kind.NOT:
            self._take()
            negated = not negated
        node = self._match(depth)
        return sel.Not(node) if negated else node

    def _match(self, depth: int) -> sel.Node:
        token = self._take()
        if token.kind is tok.Kind.ALL:
            return sel.ALL
        if token.kind is tok.Kind.GLOBAL:
            return sel.Global()
        if token.kind is tok.Kind.HAS:
            return sel.Has(token.value)
        if token.kind is tok.Kind.LPAREN:
            if depth >= MAX_DEPTH:
                raise tok.SelectorError(
                    f"parentheses nested deeper than {MAX_DEPTH} levels", token.column
                )
            node = self.or_expr(depth + 1)
            closing = self._take()
            if closing.kind is not tok.Kind.RPAREN:
                raise tok.SelectorError(
                    f"expected ')' to close the '(' at column {token.column}, "
                    f"found {closing.describe()}",
                    closing.column,
                )
            return node
        if token.kind is tok.Kind.LABEL:
            return self._label_test(token)
        raise tok.SelectorError(
            f"expected a label, has(), all(), global(), '!' or '(', found {token.describe()}",
            token.column,
        )

    def _label_test(self, label: tok.Token) -> sel.Node:
        op = self._take()
        if op.kind in _COMPARISONS:
            value = self._take()
            if value.kind is not tok.Kind.STRING:
                raise tok.SelectorError(
                    f"expected a quoted string after {op.kind.value}, found {value.describe()}",
                    value.column,
                )
            return sel.Compare(label.value, _COMPARISONS[op.kind], value.value)
        if op.kind in (tok.Kind.IN, tok.Kind.NOT_IN):
            return sel.InSet(label.value, self._set_literal(op), op.kind is tok.Kind.NOT_IN)
        raise tok.SelectorError(  # only symbols can get here: the tokenizer checks words
            f"expected an operator after label {label.value!r}, found {op.describe()}",
            op.column,
        )

    def _set_literal(self, op: tok.Token) -> frozenset[str]:
        brace = self._take()
        if brace.kind is not tok.Kind.LBRACE:
            raise tok.SelectorError(
                f"expected '{{' to start the set after {op.kind.value}, found {brace.describe()}",
                brace.column,
            )
        values: list[str] = []
        while self.peek.kind is tok.Kind.STRING:
            values.append(self._take().value)
            if self.peek.kind is not tok.Kind.COMMA:
                break
            self._take()
        closing = self._take()
        if closing.kind is not tok.Kind.RBRACE:
            raise tok.SelectorError(
                f"expected a quoted string or '}}' in the set, found {closing.describe()}",
                closing.column,
            )
        return frozenset(values)
