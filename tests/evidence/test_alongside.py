"""`parallel.alongside`: this process computes the last piece while a forked child computes each
other one; the answers come back in order, and a child's exception is raised here."""

from __future__ import annotations

import os

import pytest

from paramedic import errors
from paramedic.evidence import parallel


def _where(shared: dict[str, int], piece: int) -> tuple[int, int, int]:
    if piece < 0:
        raise errors.InputError(f"piece {piece}: negative")
    return piece * shared["factor"], os.getpid(), len(shared["big"])


@pytest.mark.parametrize("pieces", [[1], [1, 2], [3, 1, 2]])
def test_answers_come_in_piece_order_and_only_the_last_is_computed_here(pieces):
    shared = {"factor": 10, "big": list(range(100_000))}
    answers = parallel.alongside(_where, shared, pieces)
    assert [a for a, _, _ in answers] == [p * 10 for p in pieces]
    assert [n for _, _, n in answers] == [100_000] * len(pieces)  # inherited, not sent
    pids = [pid for _, pid, _ in answers]
    assert pids[-1] == os.getpid()
    assert os.getpid() not in pids[:-1] and len(set(pids)) == len(pids)


def test_an_exception_in_a_child_is_raised_here_with_its_message():
    with pytest.raises(errors.InputError, match="piece -1: negative"):
        parallel.alongside(_where, {"factor": 1, "big": []}, [-1, 2])


def _note(where: str, piece: int) -> int:
    with open(where, "a") as out:
        out.write(f"{os.getpid()}\n")
    if piece < 0:
        raise errors.InputError(f"piece {piece}: negative")
    return piece


def test_an_exception_here_still_reaps_the_children(tmp_path):
    where = tmp_path / "pids"
    with pytest.raises(errors.InputError, match="piece -2"):
        parallel.alongside(_note, str(where), [1, -2])
    children = [int(p) for p in where.read_text().split()]
    children.remove(os.getpid())
    assert len(children) == 1
    with pytest.raises(ChildProcessError):
        os.waitpid(children[0], os.WNOHANG)  # already waited for: no zombie left behind
