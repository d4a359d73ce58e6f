"""``python -m data_access.ingest``: runs :func:`data_access.ingest.cli.main`."""

from data_access.ingest.cli import main

raise SystemExit(main())
