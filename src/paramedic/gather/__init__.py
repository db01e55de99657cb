"""Live gathering through the Kubernetes API (above `kube/` and `probes/`, below `netpol/`).

`kubeapi` is the thin adapter over the client library, `fetch` runs parallel requests under one
deadline, `plan` says what to fetch (pure), `waves` fetches it, `live` is the entry point;
`probe_pod`/`probe_pod_log` run --probe-pod, `portforward` and `db_probe` run --db-probe.
Everything here produces an `evidence.model.Evidence`; `evidence.writer` saves it as a bundle.
"""
