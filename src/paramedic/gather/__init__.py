"""Gathering steps that need the kube helpers or the probes (above `kube/` and `probes/`):
today the database probe of `--db-probe` (db_probe). Object gathering itself is evidence.live."""
