"""Pipelines: snapshot (every list endpoint, one transaction), table, targets, changes, pages, manifest.

Layer 5: above the client. Nothing is re-exported here, so ``lucidframes.pipelines.snapshot`` is the module and
``lf.snapshot`` the function.
"""
