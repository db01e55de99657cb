"""Evidence: what paramedic knows about an incident, and where it came from.

`model` holds the immutable value the checks see; `bundle` loads it from disk (`documents`
decodes its files, `cloud_files` recognises cloud CLI responses) and `writer` saves it, `layout`
names the files of a bundle, `probes_file`
reads and writes recorded probe results, `redact` digests Secret values, `incident` validates
what is being diagnosed, `demos` lists the shipped demos.
The live gatherer (`paramedic.gather.live`, one layer up) produces the same value from a cluster.
"""
