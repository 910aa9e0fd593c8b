"""``python -m lucidframes`` runs the command line."""

from lucidframes.cli import main

raise SystemExit(main())
