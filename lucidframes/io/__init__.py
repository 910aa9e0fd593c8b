"""Tables in and out: formats (THE table of every format), read, write, export, atomic (temp, fsync, rename).

Below ``formats``: ``parse`` (the readers), ``sinks`` (the batch file writers) and ``database`` (DuckDB tables);
above it ``read`` and ``write``, then ``export``. Layer 2: it imports only ``errors`` and ``config``. Nothing is
re-exported here, so ``lucidframes.io.export`` is the module and ``lf.export`` the function.
"""
