"""Evidence: what paramedic knows about an incident, and where it came from.

`model` holds the immutable value the checks see; `bundle` loads it from disk, `probes_file`
reads and writes recorded probe results, `incident` validates what is being diagnosed.
The live gatherer (`live`) produces the same value from a running cluster.
"""
