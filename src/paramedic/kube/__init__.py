"""Small pure helpers over raw Kubernetes objects (plain dicts as the API returns them).

No parallel object model: every function takes and returns the dicts themselves.
"""
