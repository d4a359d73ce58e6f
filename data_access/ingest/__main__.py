"""``python -m data_access.ingest``: runs :func:`data_access.ingest.pipeline.main`."""

from data_access.ingest.pipeline import main

raise SystemExit(main())
