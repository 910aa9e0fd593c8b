"""Pipelines: snapshot (every list endpoint, one transaction), table, targets, changes, pages, manifest; and what
makes a snapshot one transaction: lock (one run per folder), preflight, previous (the snapshot compared with),
staging (the staged set, its swap, a stopped run's partial output).

Layer 5: above the client. Nothing is re-exported here, so ``lucidframes.pipelines.snapshot`` is the module and
``lf.snapshot`` the function.
"""
