"""Tables in and out: formats (one table of every file format), read, write, export, atomic (temp, fsync, rename).

Layer 2: it imports only ``errors`` and ``config``. Nothing is re-exported here, so ``lucidframes.io.export`` is
the module and ``lf.export`` the function.
"""
