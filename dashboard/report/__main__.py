"""``python -m dashboard.report``: runs :func:`dashboard.report.cli.main`."""

from dashboard.report.cli import main

raise SystemExit(main())
