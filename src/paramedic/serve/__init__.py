"""`paramedic serve`: the diagnosis started by an alert instead of a person (DESIGN.md §3).

An entry-point layer beside `cli`: an ASGI app (`app`) takes Alertmanager webhooks and manual
requests, keeps incidents in a SQL store (`store`, migrations in `migrations/`), runs each
diagnosis with the live gatherer in a bounded worker pool (`worker`, `diagnosis`) and shows
the results as JSON, HTML pages (`pages`) and Prometheus metrics (`metrics`).
"""
