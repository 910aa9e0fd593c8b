"""The validator's report: assemble (engine results to failures), report (ValidationReport), html."""
