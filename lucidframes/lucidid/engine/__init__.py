"""The validator's engine work: prepare (any frame to narwhals), rules, run (the shared plan), pandas_path (the
pandas fast path), duckdb_scan (a file bigger than memory)."""
