"""``python -m dashboard.report``: runs :func:`dashboard.report.briefing.main`."""

from dashboard.report.briefing import main

raise SystemExit(main())
