"""Find the commands a rendered text report prints, and run them the way a reader would paste
them: `bash -n` for every shell block, kubectl's own client-side `--local` mode for patches and
manifests (against the evidence objects they name), SQL on a real PostgreSQL.

`code_blocks` looks for every command block of the diagnosis in the *rendered text*, as lines
starting at column 0, consecutive and unchanged; a block that was wrapped, indented or cut is
not found, and the test says which.
"""

from __future__ import annotations

import dataclasses
import functools
import re
import shlex
import shutil
import subprocess
import tempfile
from pathlib import Path

import yaml

from paramedic.evidence import model as evidence_model
from paramedic.reports import outline
from paramedic.runbooks import diagnosis

KINDS = {
    "networkpolicy": "NetworkPolicy",
    "netpol": "NetworkPolicy",
    "deployment": "Deployment",
    "deploy": "Deployment",
    "statefulset": "StatefulSet",
    "sts": "StatefulSet",
    "secret": "Secret",
    "service": "Service",
    "svc": "Service",
    "configmap": "ConfigMap",
    "cm": "ConfigMap",
    "daemonset": "DaemonSet",
    "ds": "DaemonSet",
}
HEREDOC = re.compile(r"^kubectl apply -f - <<'EOF'\n(?P<manifest>.*)\nEOF$", re.DOTALL)
PSQL_C = re.compile(r"""psql\b[^"']*-c (?P<q>["'])(?P<sql>.*?)(?P=q)""")


@dataclasses.dataclass(frozen=True)
class Block:
    language: str
    text: str
    first: int
    """Index of its first line in the rendered text."""
    count: int


def codes(result: diagnosis.Diagnosis, *, brief: bool = False) -> list[outline.Code]:
    """Every command block the text report prints for `result`."""
    shape = outline.build(result)
    found: list[outline.Code] = []
    headline = shape.headline
    if headline.run is not None and (brief or not headline.run_pointer):
        found.append(headline.run)
    if headline.verify is not None:
        found.append(headline.verify)
    if brief:
        return found
    for item in (*shape.causes, *shape.inconclusive, *shape.upcoming):
        found += [part.code for part in item.parts if part.code is not None]
    return found


def code_blocks(result: diagnosis.Diagnosis, text: str, *, brief: bool = False) -> list[Block]:
    """Each command block, as found flush-left and whole in `text`, in the order printed;
    AssertionError otherwise."""
    lines = text.split("\n")
    blocks: list[Block] = []
    after = 0
    for code in codes(result, brief=brief):
        want = code.text.split("\n")
        starts = [
            i
            for i in range(after, len(lines) - len(want) + 1)
            if lines[i : i + len(want)] == [w.rstrip() for w in want]
        ]
        assert starts, f"command not printed whole and flush-left: {code.text[:120]!r}"
        first = starts[0]
        after = first + len(want)
        shown = "\n".join(lines[first : first + len(want)])
        blocks.append(Block(code.language, shown, first, len(want)))
    return blocks


@functools.cache  # one bash per distinct block: the same block is printed at every width
def bash_syntax(script: str) -> str:
    """bash's complaint about `script` ("" when it parses)."""
    done = subprocess.run(
        ["bash", "-n"], input=script + "\n", capture_output=True, text=True, timeout=10
    )
    return done.stderr.strip() if done.returncode else ""


def kubectl() -> str | None:
    return shutil.which("kubectl")


def local_runs(block: Block, evidence: evidence_model.Evidence) -> list[tuple[list[str], str]]:
    """(argv, stdin) for each kubectl command in `block` that kubectl can run client-side: the
    heredoc manifest, `patch`, `set env`, `set resources`; each with the evidence object it
    names written to a file and given with `--local -f`."""
    if block.language != "shell":
        return []
    heredoc = HEREDOC.match(block.text)
    if heredoc:
        return [
            (
                ["label", "--local", "-f", "-", "checked-by=paramedic", "-o", "yaml"],
                heredoc["manifest"],
            )
        ]
    runs = []
    for words in _simple_commands(block.text):
        if words[:1] != ["kubectl"]:
            continue
        run = _local(words[1:], evidence)
        if run is not None:
            runs.append(run)
    return runs


def run_kubectl(argv: list[str], stdin: str) -> subprocess.CompletedProcess[str]:
    tool = kubectl()
    assert tool is not None
    return subprocess.run(
        [tool, *argv],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=30,
        env={"KUBECONFIG": "/dev/null", "PATH": "/usr/bin:/bin", "HOME": tempfile.gettempdir()},
    )


def sql_statements(block: Block) -> list[str]:
    """The SQL a block runs: a `sql` block itself, or what `psql -c` is given."""
    if block.language == "sql":
        return [block.text]
    return [m["sql"] for m in PSQL_C.finditer(block.text)]


def _simple_commands(text: str) -> list[list[str]]:
    lexer = shlex.shlex(text, posix=True, punctuation_chars=";&|")
    lexer.whitespace_split = True
    commands: list[list[str]] = [[]]
    for token in lexer:
        if token in {";", "&&", "||", "|", "&"}:
            commands.append([])
        else:
            commands[-1].append(token)
    return [c for c in commands if c]


def _local(words: list[str], evidence: evidence_model.Evidence) -> tuple[list[str], str] | None:
    namespace, rest = _take_namespace(words)
    if rest[:1] == ["patch"]:
        verb, args = ["patch"], rest[1:]
    elif rest[:2] in (["set", "env"], ["set", "resources"]):
        verb, args = rest[:2], rest[2:]
    else:
        return None
    target, flags = _target(args)
    if target is None:
        return None
    kind, name = target
    if kind not in KINDS.values():  # a custom resource: kubectl cannot map it without a server
        return None
    obj = evidence.get(kind, namespace, name)
    assert obj is not None, (
        f"kubectl {' '.join(words)}: no {kind} {namespace}/{name} in the evidence"
    )
    path = Path(tempfile.mkdtemp(prefix="paramedic-local-")) / "object.yaml"
    path.write_text(yaml.dump(obj, Dumper=yaml.CSafeDumper), encoding="utf-8")
    return [*verb, "--local", "-f", str(path), *flags, "-o", "yaml"], ""


def _take_namespace(words: list[str]) -> tuple[str | None, list[str]]:
    namespace, rest, skip = None, [], False
    for i, word in enumerate(words):
        if skip:
            skip = False
            continue
        if word in {"-n", "--namespace"}:
            namespace, skip = words[i + 1], True
        elif word.startswith("--namespace="):
            namespace = word.split("=", 1)[1]
        else:
            rest.append(word)
    return namespace, rest


def _target(args: list[str]) -> tuple[tuple[str, str] | None, list[str]]:
    """The TYPE/NAME or TYPE NAME positional arguments, and the remaining flags."""
    positional = [i for i, a in enumerate(args) if not a.startswith("-") and not _is_value(args, i)]
    if not positional:
        return None, args
    first = args[positional[0]]
    if "/" in first:
        kind, name = first.split("/", 1)
        used = {positional[0]}
    elif len(positional) > 1:
        kind, name = first, args[positional[1]]
        used = {positional[0], positional[1]}
    else:
        return None, args
    flags = [a for i, a in enumerate(args) if i not in used]
    return (KINDS.get(kind.lower(), kind), name), flags


_VALUED = {"-p", "--patch", "--type", "-c", "--containers", "-f", "--filename", "-o"}


def _is_value(args: list[str], i: int) -> bool:
    return i > 0 and args[i - 1] in _VALUED
