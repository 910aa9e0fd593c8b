"""What a notebook shows: display (the short error block, one-line warnings) and summary (``run_summary``).

Layer 5. Neither module imports IPython at import time.
"""
