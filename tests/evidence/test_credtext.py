"""Every spelling of a credential in free text is masked, whole, in linear time."""

from __future__ import annotations

import time

import pytest

from paramedic.evidence import credtext, redact

# (line, the secret it holds): each secret is a marker that must not survive in any piece.
SPELLINGS = [
    ("connecting to postgresql://user_service:hunter2zz@10.96.112.40:5432/p", "hunter2zz"),
    ("dsn=postgresql://:Pw0nly-aaa@db:5432/p", "Pw0nly-aaa"),
    ("postgresql://app:SlashPw-eee/TailPw-fff@db/p failed", "SlashPw-eee"),
    ("postgresql://app:SlashPw-eee/TailPw-fff@db/p failed", "TailPw-fff"),
    ("postgres://app:At@Sign-ggg@db/p", "Sign-ggg"),
    ("redis://:RedisPw-hhh@cache:6379/0", "RedisPw-hhh"),
    ("GET https://bob:HttpPw-iii@api.example.com/x", "HttpPw-iii"),
    ("host=db user=app password=KvPw-jjj dbname=x", "KvPw-jjj"),
    ("PGPASSWORD=PgPw-kkk psql -h db", "PgPw-kkk"),
    ("env DB_PASS=DbPass-lll", "DbPass-lll"),
    ("DB_PASSWORD='Quoted Pw-mmm'", "Pw-mmm"),
    ("API_TOKEN=ApiTok-nnn", "ApiTok-nnn"),
    ("password: Yaml-ooo", "Yaml-ooo"),
    ("password: correct horse Battery-ppp", "Battery-ppp"),
    ('{"password":"Json-qqq"}', "Json-qqq"),
    ('{"password": "Json space-rrr"}', "space-rrr"),
    ("{'password': 'PyRepr-sss'}", "PyRepr-sss"),
    ('config {"DB_PASSWORD": "p@ss w0rd-ttt"}', "w0rd-ttt"),
    ('{"name":"DB_PASSWORD","value":"EnvJson-uuu"}', "EnvJson-uuu"),
    ("Authorization: Bearer eyBearer-vvv", "eyBearer-vvv"),
    ("Authorization: Basic dXNlcjpCYXNpYy13d3c=", "dXNlcjpCYXNpYy13d3c="),
    ("sent header bearer Tok-xxx to api", "Tok-xxx"),
    ("GET /login?user=a&password=Query-yyy&next=/", "Query-yyy"),
    ("jdbc:postgresql://db/p?user=a&sslpassword=Ssl-zzz", "Ssl-zzz"),
    ("mysql -u root -pMysql-aab -h db", "Mysql-aab"),
    ("pg_dump --password=Flag-aac db", "Flag-aac"),
    ("vault login --token Flag-aad", "Flag-aad"),
    ("AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE", "AKIAIOSFODNN7EXAMPLE"),
    ("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "wJalrXUtnFEMI"),
    ("used key AKIAIOSFODNN7EXAMPLE for s3", "AKIAIOSFODNN7EXAMPLE"),
    ("2026 LOG:  statement: ALTER ROLE user_service WITH PASSWORD 'Rotated-aae'", "Rotated-aae"),
    ("CREATE USER app PASSWORD 'it''s-quoted-aaf'", "s-quoted-aaf"),
    ('ALTER USER app ENCRYPTED PASSWORD "Dq-aag"', "Dq-aag"),
    ("client_secret=Oauth-aah&grant_type=x", "Oauth-aah"),
    ("refresh_token: Refresh-aai", "Refresh-aai"),
    ("X-Api-Key: Hdr-aaj", "Hdr-aaj"),
    ("Cookie: session=Cookie-aak; theme=dark", "Cookie-aak"),
    (
        "jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJKd3QtYWFsIn0.c2lnbmF0dXJl used",
        "eyJzdWIiOiJKd3QtYWFsIn0",
    ),
    ("token ghp_GithubTokenAam0123456789abcdefXYZ", "ghp_GithubTokenAam0123456789abcdefXYZ"),
    ("SECRET_KEY_BASE is set; secret=Plain-aan", "Plain-aan"),
    ("passwd=Passwd-aao pwd=Pwd-aap", "Passwd-aao"),
    ("passwd=Passwd-aao pwd=Pwd-aap", "Pwd-aap"),
    ('escaped {\\"password\\": \\"Esc-aaq\\"}', "Esc-aaq"),
    ('password="Unterminated-aar', "Unterminated-aar"),
]


@pytest.mark.parametrize(("line", "secret"), SPELLINGS)
def test_every_spelling_of_a_credential_is_masked(line: str, secret: str) -> None:
    masked = credtext.mask(line)
    assert secret not in masked, masked
    assert credtext.MASK in masked
    assert redact.log_line(line) == masked


@pytest.mark.parametrize(
    ("line", "secret"),
    [
        ("DB_PA\u017fSWORD=Long-s-aas", "Long-s-aas"),  # ſ: matched as s, lower case ſ
        ("token=1 PA\u017fSWORD 'Sql-aat'", "Sql-aat"),
        ("AUTHOR\u0130ZATION: Basic Dotted-aau", "Dotted-aau"),  # İ: lower case i + a dot
        ("author\u0131zation: Basic Dotless-aav", "Dotless-aav"),  # ı: matched as i
        ("API_\u212aEY=Kelvin-aaw", "Kelvin-aaw"),  # the Kelvin sign
    ],
)
def test_letters_the_patterns_match_as_ascii_are_masked_too(line: str, secret: str) -> None:
    assert secret not in credtext.mask(line), credtext.mask(line)


def test_the_table_covers_at_least_31_spellings() -> None:
    assert len({line for line, _ in SPELLINGS}) >= 31


@pytest.mark.parametrize(
    "line",
    [
        '2026 FATAL:  password authentication failed for user "app"',
        "FATAL:  sorry, too many clients already",
        'could not translate host name "profile-db" to address: Name or service not known',
        'pq: no pg_hba.conf entry for host "10.0.0.7", user "app", database "p"',
        "connecting to postgresql://profile-db.data:5432/profiles",
        '{"password_from": "none", "password_used": false}',
        "kubectl patch deploy x -p '{\"spec\": {}}'",
    ],
)
def test_text_without_credentials_is_unchanged(line: str) -> None:
    assert credtext.mask(line) == line


def test_masking_is_idempotent() -> None:
    for line, _ in SPELLINGS:
        once = credtext.mask(line)
        assert credtext.mask(once) == once


@pytest.mark.parametrize(
    ("name", "credential"),
    [
        ("DB_PASSWORD", True),
        ("DB_PASS", True),
        ("PGPASSWORD", True),
        ("API_TOKEN", True),
        ("client-secret", True),
        ("tls.key", True),
        ("AWS_SECRET_ACCESS_KEY", True),
        ("DB_HOST", False),
        ("DATABASE_URL", False),
        ("POOL_SIZE", False),
        ("Corefile", False),
    ],
)
def test_credential_names(name: str, credential: bool) -> None:
    assert credtext.is_credential_name(name) is credential


@pytest.mark.parametrize(
    "hostile",
    [
        "://a:" * 40_000,
        "password=" * 30_000,
        "PASSWORD '" * 25_000,
        "-p" * 100_000,
        "a-" * 100_000,
        "Authorization: " * 15_000,
        "eyJ" + "a" * 200_000,
        "--password " * 20_000,
        "x@y://" * 40_000,
    ],
)
def test_hostile_lines_are_masked_in_linear_time(hostile: str) -> None:
    started = time.process_time()
    credtext.mask(hostile)
    assert time.process_time() - started < 2.0
