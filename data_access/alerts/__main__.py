"""``python -m data_access.alerts``: runs :func:`data_access.alerts.detection.main`."""

from data_access.alerts.detection import main

raise SystemExit(main())
