"""Fuzz targets, one per loader a user's file reaches (issue 15): a bundle directory, a tar
archive, incident.yaml, probes.json, metrics, and a kubeconfig path. Hostile shapes are mixed in
(deep block and flow nesting, GNU long-name and pax headers with any size, truncated streams,
mutated bytes). Whatever the input, the loader returns or raises our one-line InputError (a
kubeconfig: ParamedicError); nothing else, never a signal. Each target is bounded
(`fuzzing.depth`), so the whole file runs in CI in seconds."""

from __future__ import annotations

import gzip
import io
import json
import shutil
import tarfile
import tempfile
from pathlib import Path

from hypothesis import example, given
from hypothesis import strategies as st

import fuzzing
from paramedic import errors
from paramedic.evidence import bundle
from paramedic.gather import kubeapi

SEED = Path(__file__).resolve().parents[2] / "src" / "paramedic" / "demos" / "seed"
FUZZ = fuzzing.depth(60)

_PUNCTUATION = list("{}[]:,-&*!|>'\"#? \n\t ak1.%@`")
yaml_text = st.one_of(
    st.text(alphabet=st.sampled_from(_PUNCTUATION), max_size=300),
    st.builds(lambda n, tail: "- " * n + tail, st.integers(0, 3_000), st.text(max_size=20)),
    st.builds(lambda n: "[" * n + "]" * n, st.integers(0, 2_000)),
    st.builds(lambda n: "".join(" " * i + "a:\n" for i in range(n)), st.integers(0, 1_200)),
)
json_text = st.one_of(
    st.recursive(
        st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=10)),
        lambda c: st.one_of(st.lists(c, max_size=4), st.dictionaries(st.text(max_size=8), c)),
        max_leaves=20,
    ).map(json.dumps),
    st.builds(lambda n: "[" * n + "]" * n, st.integers(0, 5_000)),
    st.text(alphabet=st.sampled_from(list('{}[]:,"0123456789e.-tfn ')), max_size=200),
)


def _loads_or_input_error(path: Path) -> None:
    try:
        bundle.load(path)
    except errors.InputError as exc:
        assert str(exc) and "\n" not in str(exc)


def _seed_with(name: str, content: str | bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "b"
        shutil.copytree(SEED, root)
        (root / name).write_bytes(content.encode() if isinstance(content, str) else content)
        _loads_or_input_error(root)


@FUZZ
@given(objects=st.one_of(yaml_text, json_text), logs=st.binary(max_size=2_000))
def test_bundle_directory(objects, logs):
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "objects.yaml").write_text(objects)
        (root / "logs" / "ns" / "pod").mkdir(parents=True)
        (root / "logs" / "ns" / "pod" / "c.log").write_bytes(logs)
        _loads_or_input_error(root)


@FUZZ
@given(text=yaml_text)
def test_incident_yaml(text):
    _seed_with("incident.yaml", text)


@FUZZ
@given(text=json_text)
def test_probes_json(text):
    _seed_with("probes.json", text)


@FUZZ
@given(text=st.one_of(yaml_text, json_text), json_name=st.booleans())
def test_metrics(text, json_name):
    _seed_with("metrics.json" if json_name else "metrics.yaml", text)


_TYPES = [
    tarfile.REGTYPE,
    tarfile.GNUTYPE_LONGNAME,
    tarfile.GNUTYPE_LONGLINK,
    tarfile.XHDTYPE,
    tarfile.XGLTYPE,
    tarfile.GNUTYPE_SPARSE,
    tarfile.DIRTYPE,
]


@FUZZ
@given(
    members=st.lists(
        st.tuples(
            st.sampled_from(["objects.yaml", "b/objects.yaml", "logs/a/b/c.log", "x", "b/"]),
            st.sampled_from(_TYPES),
            st.integers(0, 2**33),
            st.binary(max_size=300),
        ),
        max_size=4,
    ),
    flips=st.lists(st.tuples(st.integers(0, 4_000), st.integers(0, 255)), max_size=4),
    compress=st.booleans(),
)
def test_tar_archive(members, flips, compress):
    raw = bytearray()
    for name, kind, claimed, content in members:
        info = tarfile.TarInfo(name)
        info.type = kind
        info.size = claimed if kind != tarfile.REGTYPE else len(content)
        raw += info.tobuf(format=tarfile.GNU_FORMAT) + content
        raw += b"\0" * (-len(raw) % 512)
    for at, value in flips:
        if at < len(raw):
            raw[at] = value
    data = bytes(raw)
    if compress:
        buffer = io.BytesIO()
        with gzip.GzipFile(fileobj=buffer, mode="wb") as gz:
            gz.write(data)
        data = buffer.getvalue()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bundle.tar.gz"
        path.write_bytes(data)
        _loads_or_input_error(path)


_KUBECONFIG = """apiVersion: v1
kind: Config
current-context: fake
clusters:
- name: fake
  cluster: {server: "http://127.0.0.1:9"}
users:
- name: tester
  user: {token: test-token}
contexts:
- name: fake
  context: {cluster: fake, user: tester, namespace: app}
"""


@FUZZ
@given(
    cut=st.integers(0, len(_KUBECONFIG)),
    insert=st.one_of(
        yaml_text,
        st.sampled_from(["exec: 1", "tokenFile: ''", "&a [*a]"]),
        st.builds(lambda n: "".join(" " * i + "a:\n" for i in range(n)), st.integers(50, 1_200)),
    ),
)
@example(cut=1, insert="\t")  # our reader takes the tab, the client's PyYAML refuses it
def test_kubeconfig_path(cut, insert):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "kubeconfig"
        path.write_text(_KUBECONFIG[:cut] + insert + _KUBECONFIG[cut:])
        try:
            api = kubeapi.connect(kubeconfig=str(path), context=None, pool_size=1, timeout=5)
        except errors.ParamedicError as exc:
            assert str(exc) and "\n" not in str(exc)
        else:
            kubeapi.close(api)
