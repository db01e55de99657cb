"""Hypothesis: whatever bytes or structures a bundle holds, loading ends in success or one
BundleError line, never another exception, never a hang."""

from __future__ import annotations

import io
import json
import tarfile
import tempfile
from pathlib import Path

import yaml
from hypothesis import given
from hypothesis import strategies as st

import fuzzing
from paramedic import errors
from paramedic.evidence import bundle

SETTINGS = fuzzing.depth(150)

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=20)
)
json_values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=5), st.dictionaries(st.text(max_size=10), children, max_size=5)
    ),
    max_leaves=30,
)
KEYS = [
    "apiVersion",
    "kind",
    "metadata",
    "items",
    "spec",
    "status",
    "name",
    "namespace",
    "labels",
    "data",
]
k8sish = st.recursive(
    st.one_of(scalars, st.sampled_from(["v1", "List", "PodList", "Pod", "Secret", "Service"])),
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.sampled_from(KEYS), children, max_size=6)
    ),
    max_leaves=40,
)


def load_ok_or_bundle_error(path: Path) -> None:
    try:
        evidence = bundle.load(path)
    except errors.BundleError as exc:
        text = str(exc)
        assert text and "\n" not in text
        return
    assert all(isinstance(o, dict) and o.get("kind") for o in evidence.objects)


def in_tmp(name: str, data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_bytes(data)
        load_ok_or_bundle_error(path)


@SETTINGS
@given(
    data=st.binary(max_size=400), name=st.sampled_from(["objects.yaml", "objects.json", "o.txt"])
)
def test_random_bytes(data, name):
    in_tmp(name, data)


@SETTINGS
@given(text=st.text(alphabet=st.sampled_from(list("{}[]:,-&*!|>'\"# \n\tak1.?%@`")), max_size=200))
def test_random_yaml_punctuation(text):
    in_tmp("objects.yaml", text.encode())


@SETTINGS
@given(doc=k8sish, as_json=st.booleans())
def test_random_structures(doc, as_json):
    text = json.dumps(doc) if as_json else yaml.safe_dump(doc)
    in_tmp("objects.json" if as_json else "objects.yaml", text.encode())


@SETTINGS
@given(
    objects=k8sish,
    incident=json_values,
    probes=st.one_of(
        json_values,
        st.fixed_dictionaries({"schema": st.just("paramedic.probes/v1"), "probes": json_values}),
    ),
    metrics=k8sish,
)
def test_random_bundle_directories(objects, incident, probes, metrics):
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "objects.json").write_text(json.dumps(objects))
        (root / "incident.yaml").write_text(yaml.safe_dump(incident))
        (root / "probes.json").write_text(json.dumps(probes))
        (root / "metrics.yaml").write_text(yaml.safe_dump(metrics))
        load_ok_or_bundle_error(root)


member_names = st.one_of(
    st.sampled_from(
        [
            "objects.yaml",
            "b/objects.yaml",
            "../x",
            "/abs",
            "logs/a/b/c.log",
            "a/../../b",
            ".",
            "logs",
        ]
    ),
    st.text(alphabet=st.sampled_from(list("ab/._-")), min_size=1, max_size=12),
)
member_types = st.sampled_from(
    [
        tarfile.REGTYPE,
        tarfile.DIRTYPE,
        tarfile.SYMTYPE,
        tarfile.LNKTYPE,
        tarfile.FIFOTYPE,
        tarfile.CHRTYPE,
    ]
)


@SETTINGS
@given(
    members=st.lists(st.tuples(member_names, member_types, st.binary(max_size=60)), max_size=5),
    truncate=st.one_of(st.none(), st.integers(min_value=0, max_value=300)),
)
def test_random_archives(members, truncate):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, kind, content in members:
            info = tarfile.TarInfo(name)
            info.type = kind
            if kind == tarfile.REGTYPE:
                info.size = len(content)
                tar.addfile(info, io.BytesIO(content))
            else:
                info.linkname = "objects.yaml"
                tar.addfile(info)
    data = buffer.getvalue()
    if truncate is not None:
        data = data[:truncate]
    in_tmp("bundle.tar.gz", data)
