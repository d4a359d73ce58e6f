"""``python -m data_access.demo``: runs :func:`data_access.demo.cli.main`."""

from data_access.demo.cli import main

raise SystemExit(main())
