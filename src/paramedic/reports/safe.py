"""Text from the cluster made safe to show: no escape sequence, control character or markup of
its own ever reaches the reader's terminal, ticket or chat.

Evidence is written by whoever controls a log line or an object name. A raw ESC can set the
terminal's title, write its clipboard (OSC 52), hide text or move the cursor; a raw CR can print
over what came before; bidirectional overrides reorder what is read. Every renderer passes every
string through `visible` (each such character becomes a visible `\\x1b`/`\\u202e` escape), so do
the CLI's own lines (errors, warnings, netpol/cloud/probe text: cli.common.say and fail), and
the markup formats escape their own syntax on top (`markdown`, `slack`); HTML is escaped by the
template engine.
"""

from __future__ import annotations

import re

_CONTROL = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff]"
)
"""C0 (except tab and newline), DEL, C1, bidi marks and overrides, zero-width and invisible
formatting characters, line/paragraph separators, BOM."""
_MARKDOWN_SPECIAL = re.compile(r"([\\`*\[\]<>|~&#!]|(?<![0-9A-Za-z])_|_(?![0-9A-Za-z]))")
"""Characters with a Markdown or HTML meaning; `_` only where it could open or close emphasis
(CommonMark never reads an underscore inside a word, such as max_connections, as emphasis)."""
_FENCE = re.compile(r"`{3,}")


def _escape(match: re.Match[str]) -> str:
    char = match.group(0)
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: str) -> str:
    """`text` with every control, escape and invisible formatting character shown as an escape;
    newlines and tabs stay (commands and manifests need them)."""
    return _CONTROL.sub(_escape, text)


def line(text: str) -> str:
    """`visible`, on one line: newlines and tabs shown as escapes too (for names and prose)."""
    return visible(text).replace("\t", "\\t").replace("\n", "\\n")


def markdown(text: str) -> str:
    """Prose for Markdown: one line, every character with a Markdown or HTML meaning escaped, so
    no HTML, link, image or emphasis from the evidence passes through."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", line(text))


def fence(content: str) -> str:
    """A backtick fence longer than any run of backticks in `content` (so it cannot close early)."""
    longest = max((len(m.group(0)) for m in _FENCE.finditer(content)), default=0)
    return "`" * max(3, longest + 1)


def json_document(dumped: str) -> str:
    """A JSON text with every such character written as a `\\uXXXX` escape: the same document
    for a parser, and nothing a terminal acts on when it is printed (json.dumps escapes C0 but
    passes C1 controls and bidi overrides through)."""
    return _CONTROL.sub(lambda m: f"\\u{ord(m.group(0)):04x}", dumped)


def slack(text: str) -> str:
    """Prose for Slack mrkdwn: the three characters Slack reserves (&, <, >) as entities, so no
    link, mention (@channel) or formatting control from the evidence is interpreted."""
    return line(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_code(text: str) -> str:
    """Code for a Slack ``` block: entities as `slack`, and no ``` inside that could close it."""
    escaped = visible(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return escaped.replace("```", "``\u02cb")
