"""``python -m data_access.semantic.rollups``: runs :func:`data_access.semantic.rollups.refresh.main`."""

from data_access.semantic.rollups.refresh import main

raise SystemExit(main())
