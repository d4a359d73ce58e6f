"""``python -m data_access.alerts``: runs :func:`data_access.alerts.cli.main`."""

from data_access.alerts.cli import main

raise SystemExit(main())
