"""Credentials written into free text, found and masked: log lines, env values, ConfigMap files,
commands, Event messages, error lines.

`mask(text)` replaces every credential it recognises by `***` and leaves everything else, error
texts included, as it was. It knows the spellings applications, shells, HTTP and PostgreSQL use
(the table in tests/evidence/test_credtext.py lists them): the user:password part of any
`scheme://` URL (the whole part, up to the token's last `@`, so a password holding `/` or `@`
never survives in pieces); `key=value`, `key: value`, `"key": "value"` and `--key value` whose
key ends in a credential word (`PASSWORD`, `DB_PASS`, `API_TOKEN`, `client_secret`, `api-key`);
SQL `PASSWORD '...'`; `Authorization:`/`Cookie:` headers and bearer tokens; `mysql -pSECRET`;
and tokens recognisable by shape (AWS access key ids, JWTs, GitHub and Slack tokens).

Every pattern runs in linear time on hostile input: repetitions are bounded, no two quantified
parts can match the same text, and none uses backreferences or lookaround (so each is also a
valid RE2 pattern). `is_credential_name` says whether a variable or key name holds a credential.
"""

from __future__ import annotations

import re

MASK = "***"

_WORD = (
    r"(?:pass(?:word|wd|phrase)?|pwd|secret|token|credentials?|"
    r"(?:api|access|secret|private|auth|encryption|signing|master|client)[_-]?key|apikey)"
)
_EQUALS = r"\\?[\"']?\s{0,8}(?:=>?|,\s{0,8}[\"']?value[\"']?\s{0,8}[:=])\s{0,8}"
_QUOTED_KEY = r"\\?[\"']\s{0,8}:\s{0,8}"
_VALUE = (
    r"(?:\\?\"[^\"\n]{0,512}\"|'[^'\n]{0,512}'|[\"'\\]{1,2}[^\s\"',;&]{0,512}"
    r"|[^\s\"',;&}\]]{1,512})"
)

_WORDS = ("pass", "pwd", "secret", "token", "credential", "key")
"""Lower-case fragments one of which every spelling of _WORD holds."""

# (pattern, replacement, fragments): a pattern runs only on a text whose lower-case form holds
# one of its fragments (without one it cannot match), so a line runs the few patterns it could.
_EVERYWHERE = (
    # Authorization / Cookie headers: everything up to the end of the value.
    (
        r"((?:authorization|cookie)[\"']?\s{0,8}[:=]\s{0,8}[\"']?)[^\n\r\"']{1,4096}",
        r"\1***",
        ("authorization", "cookie"),
    ),
    (r"(\bbearer\s{1,8})[A-Za-z0-9._~+/=-]{1,4096}", r"\1***", ("bearer",)),
    # SQL: ALTER ROLE x [WITH] [ENCRYPTED] PASSWORD '...'
    (
        r"(\bpassword\s{1,8})(?:'(?:[^'\n]|''){0,512}'|\"[^\"\n]{0,512}\"|'\S{0,512})",
        r"\1'***'",
        ("password",),
    ),
    # key=value, "key": "value", {"name": "X_TOKEN", "value": "..."}
    (rf"({_WORD}(?:{_EQUALS}|{_QUOTED_KEY})){_VALUE}", r"\1***", _WORDS),
    # command-line flags: --password x, --password=x, --api-token x, mysql -pSECRET
    (rf"(--[a-z0-9-]{{0,32}}{_WORD}(?:=|\s{{1,8}}))\S{{1,512}}", r"\1***", _WORDS),
    (r"((?:^|\s)-p)[^\s-]\S{0,511}", r"\1***", ("-p",)),
    # tokens recognisable by their shape
    (
        r"\beyJ[A-Za-z0-9_-]{4,4096}\.[A-Za-z0-9_-]{4,4096}\.[A-Za-z0-9_-]{0,4096}",
        MASK,
        ("eyj",),
    ),
    (
        r"\b(?:gh[pousr]_[A-Za-z0-9]{20,255}|xox[abposr]-[A-Za-z0-9-]{10,255})",
        MASK,
        ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "xox"),
    ),
)
_EVIDENCE_ONLY = (
    # YAML style, `password: several words`, and `token: x`: in evidence text only, since
    # paramedic's own prose says "env var DB_PASSWORD: keys ..."
    (rf"({_WORD}:\s{{1,8}})[^\s\"'][^\n\r,;}}\]]{{0,511}}", r"\1***", _WORDS),
    (rf"({_WORD}\s{{0,8}}:\s{{0,8}}){_VALUE}", r"\1***", _WORDS),
)

_Table = tuple[tuple[re.Pattern[str], str, tuple[str, ...]], ...]


def _compiled(table: tuple[tuple[str, str, tuple[str, ...]], ...]) -> _Table:
    return tuple(
        (re.compile(pattern, re.IGNORECASE), repl, frags) for pattern, repl, frags in table
    )


# AWS access key ids keep their case: lower-case words are not key ids.
_AWS_KEY_ID = (re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b"), MASK, ("akia", "asia"))
_PROSE = (*_compiled(_EVERYWHERE), _AWS_KEY_ID)
_EVIDENCE = (*_compiled(_EVIDENCE_ONLY), *_PROSE)

_CREDENTIAL_NAME = re.compile(
    r"pass(?:word|wd|phrase)?|pwd|secret|token|credential|auth|"
    r"(?:api|access|private|encryption|signing|master)[_.-]?key|apikey|(?:^|[_.-])key$",
    re.IGNORECASE,
)
_SPACE = re.compile(r"(\s+)")
_USER_NAME = re.compile(r"[a-z_][a-z0-9._-]{0,31}$")


_TRIGGER = re.compile(
    "|".join(
        re.escape(fragment)
        for fragment in sorted(
            {"://", *(f for *_, fragments in _EVIDENCE for f in fragments)},
            key=lambda f: (-len(f), f),
        )
    )
)
"""Every pattern's fragments: a line holding none of them (nearly every log line) is returned
after one scan."""


_FOLD = str.maketrans({"\u0130": "i", "\u0131": "i", "\u017f": "s", "\u212a": "k"})
"""The letters outside ASCII that the patterns (IGNORECASE) match as an ASCII letter and whose
lower case is not that letter (İ ı ſ K): folded before the fragments are looked for, so that
`PAſSWORD=x` is masked as the pattern would mask it."""


def mask(text: str, *, prose: bool = False) -> str:
    """`text` with every credential it holds replaced by `***`. `prose=True` for paramedic's
    own sentences (a report's last pass), where `NAME: ...` introduces an explanation."""
    lower = (text if text.isascii() else text.translate(_FOLD)).lower()
    if not _TRIGGER.search(lower):
        return text
    if "://" in text and "@" in text:
        text = _mask_userinfo(text)
    # Masking only replaces a match's value by *** (no fragment holds a `*`), so a fragment
    # found in the text before holds for the text after each pattern too.
    for pattern, replacement, fragments in _PROSE if prose else _EVIDENCE:
        if any(fragment in lower for fragment in fragments):
            text = pattern.sub(replacement, text)
    return text


def is_credential_name(name: str) -> bool:
    """Whether an env var or data key named `name` holds a credential (DB_PASSWORD, API_TOKEN,
    client-secret, tls.key): such values are digested, never kept."""
    return bool(_CREDENTIAL_NAME.search(name))


def has_userinfo(url: str) -> bool:
    """Whether a `scheme://` URL carries a user or password part (masked or not)."""
    start = url.find("://")
    return start >= 0 and url.rfind("@") > start


def _mask_userinfo(text: str) -> str:
    """Each whitespace-free token holding `scheme://` loses everything from there to its last
    `@`: the URL's user:password part, whole, whatever characters the password holds. A plain
    user name without a password (`postgresql://app@db/p`) stays: it is no credential, and the
    database probe needs it."""
    parts = _SPACE.split(text)
    for i, token in enumerate(parts):
        start = token.find("://")
        if start < 0:
            continue
        at = token.rfind("@")
        userinfo = token[start + 3 : at]
        if at > start + 3 and userinfo != MASK and not _USER_NAME.match(userinfo):
            parts[i] = f"{token[: start + 3]}{MASK}{token[at:]}"
    return "".join(parts)
