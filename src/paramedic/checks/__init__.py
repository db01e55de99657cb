"""Checks: pure functions from evidence to one finding each.

`model` defines findings; `registry` the decorator that records a check's id, title and the
evidence it needs. One module per check; `builtin` lists them explicitly.
"""
