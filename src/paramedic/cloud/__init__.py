"""Cloud network rules, evaluated without I/O: may this address reach that one?

`model` is the question (`Flow`) and the answer (`Answer`, one `Step` per layer); `path` picks
the provider whose evidence holds the flow. One evaluator per provider: `aws` (security groups in
`aws_groups`, network ACLs in `aws_acls`, interfaces in `aws_inventory`), `gcp` (VPC firewall
rules), `azure` (NSGs; NICs and service tags in `azure_inventory`). The documents are the
providers' CLI JSON, loaded by `paramedic.evidence.cloud_files`.
"""
