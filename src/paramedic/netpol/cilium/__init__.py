"""Cilium's own policies (cilium.io/v2 CiliumNetworkPolicy, CiliumClusterwideNetworkPolicy,
CiliumCIDRGroup): parsed and validated (`rules`), their endpoint labels and selectors
(`labels`), their peers as terms of the compiled form (`terms`), and fixes in Cilium's terms
(`fix`). The layer that places them on the path is `paramedic.netpol.layers.cilium`.
"""
