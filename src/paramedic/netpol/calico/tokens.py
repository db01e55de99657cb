"""The Calico selector tokenizer: text in, tokens with their column out, in one linear pass.

The lexical rules are Calico's own (libcalico-go selector tokenizer, read for facts):

- blanks are spaces and tabs only; anything else unexpected is an error at its column;
- a label (identifier) is made of ``[A-Za-z0-9_./-]``, at most 512 characters;
- strings are quoted with ``'`` or ``"`` and have no escapes (the other quote may appear inside);
- ``has(label)``, ``all()`` and ``global()`` are single tokens: the ``(`` must follow the word
  directly (``has (x)`` is the label ``has`` followed by a parenthesis), blanks may appear inside;
- right after a label come the word operators ``contains``, ``starts with``, ``ends with``,
  ``not in`` and ``in`` (the two-word ones may be written without the blank, ``startswith``),
  each ending at a word boundary; ``==``, ``!=``, ``&&``, ``||`` and ``!`` are symbols.

Columns are 1-based character positions in the selector text, for error messages.
"""

from __future__ import annotations

import dataclasses
import enum

from paramedic import errors

MAX_LABEL_LENGTH = 512
_BLANKS = " \t"
_IDENT = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./-")


class SelectorError(errors.InputError):
    """A selector Calico would reject; `column` is the 1-based position of the problem."""

    def __init__(self, message: str, column: int) -> None:
        super().__init__(f"{message} at column {column}")
        self.column = column


class Kind(enum.Enum):
    LABEL = "label"
    STRING = "string"
    LBRACE = "'{'"
    RBRACE = "'}'"
    COMMA = "','"
    EQ = "'=='"
    NE = "'!='"
    IN = "'in'"
    NOT_IN = "'not in'"
    CONTAINS = "'contains'"
    STARTS_WITH = "'starts with'"
    ENDS_WITH = "'ends with'"
    NOT = "'!'"
    AND = "'&&'"
    OR = "'||'"
    LPAREN = "'('"
    RPAREN = "')'"
    HAS = "has()"
    ALL = "all()"
    GLOBAL = "global()"
    EOF = "end of selector"


@dataclasses.dataclass(frozen=True, slots=True)
class Token:
    kind: Kind
    value: str
    column: int

    def describe(self) -> str:
        if self.kind is Kind.LABEL:
            return f"label {self.value!r}"
        if self.kind is Kind.STRING:
            return f"string {self.value!r}"
        return self.kind.value


_SYMBOLS = {"(": Kind.LPAREN, ")": Kind.RPAREN, "{": Kind.LBRACE, "}": Kind.RBRACE, ",": Kind.COMMA}
_PAIRS = {"=": ("==", Kind.EQ), "&": ("&&", Kind.AND), "|": ("||", Kind.OR)}
_WORD_OPERATORS = (
    (("contains",), Kind.CONTAINS),
    (("starts", "with"), Kind.STARTS_WITH),
    (("ends", "with"), Kind.ENDS_WITH),
    (("not", "in"), Kind.NOT_IN),
    (("in",), Kind.IN),
)
_CALLS = (("all(", Kind.ALL), ("global(", Kind.GLOBAL))


def tokenize(text: str) -> list[Token]:
    """Every token of `text`, ending with an EOF token. Raises SelectorError."""
    tokens: list[Token] = []
    i, n = 0, len(text)
    while True:
        i = _skip_blanks(text, i)
        if i >= n:
            tokens.append(Token(Kind.EOF, "", n + 1))
            return tokens
        start, char = i, text[i]
        after_label = bool(tokens) and tokens[-1].kind is Kind.LABEL
        if char in _SYMBOLS:
            tokens.append(Token(_SYMBOLS[char], char, start + 1))
            i += 1
        elif char in "\"'":
            end = text.find(char, i + 1)
            if end < 0:
                raise SelectorError(f"unterminated string (opened with {char})", start + 1)
            tokens.append(Token(Kind.STRING, text[i + 1 : end], start + 1))
            i = end + 1
        elif char == "!":
            if text.startswith("!=", i):
                tokens.append(Token(Kind.NE, "!=", start + 1))
                i += 2
            else:
                tokens.append(Token(Kind.NOT, "!", start + 1))
                i += 1
        elif char in _PAIRS:
            symbol, kind = _PAIRS[char]
            if not text.startswith(symbol, i):
                raise SelectorError(f"expected {symbol!r}, found {char!r} alone", start + 1)
            tokens.append(Token(kind, symbol, start + 1))
            i += 2
        elif after_label:
            kind, i = _word_operator(text, i, tokens[-1].value)
            tokens.append(Token(kind, text[start:i], start + 1))
        else:
            token, i = _call_or_label(text, i)
            tokens.append(token)


def _skip_blanks(text: str, i: int) -> int:
    while i < len(text) and text[i] in _BLANKS:
        i += 1
    return i


def _identifier_end(text: str, i: int) -> int:
    while i < len(text) and text[i] in _IDENT:
        i += 1
    return i


def _word_operator(text: str, i: int, label: str) -> tuple[Kind, int]:
    for words, kind in _WORD_OPERATORS:
        j = i
        for k, word in enumerate(words):
            if not text.startswith(word, j):
                break
            j += len(word)
            if k < len(words) - 1:
                j = _skip_blanks(text, j)  # "not in" may also be written "notin"
        else:
            if j >= len(text) or text[j] not in _IDENT:
                return kind, j
    raise SelectorError(
        f"expected an operator (==, !=, in, not in, contains, starts with, ends with) "
        f"after label {label!r}",
        i + 1,
    )


def _call_or_label(text: str, i: int) -> tuple[Token, int]:
    start = i
    if text.startswith("has(", i):
        j = _skip_blanks(text, i + 4)
        end = _identifier_end(text, j)
        _check_label(text, j, end)
        k = _skip_blanks(text, end)
        if not text.startswith(")", k):
            raise SelectorError("expected ')' to close has(", k + 1)
        return Token(Kind.HAS, text[j:end], start + 1), k + 1
    for word, kind in _CALLS:
        if text.startswith(word, i):
            k = _skip_blanks(text, i + len(word))
            if not text.startswith(")", k):
                raise SelectorError(f"expected ')' right after {word}", k + 1)
            return Token(kind, word + ")", start + 1), k + 1
    end = _identifier_end(text, i)
    _check_label(text, i, end)
    return Token(Kind.LABEL, text[i:end], start + 1), end


def _check_label(text: str, start: int, end: int) -> None:
    if end == start:
        found = repr(text[start]) if start < len(text) else "the end"
        raise SelectorError(f"expected a label, found {found}", start + 1)
    if end - start > MAX_LABEL_LENGTH:
        raise SelectorError(f"label longer than {MAX_LABEL_LENGTH} characters", start + 1)
