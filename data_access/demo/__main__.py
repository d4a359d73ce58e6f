"""``python -m data_access.demo``: runs :func:`data_access.demo.generate.main`."""

from data_access.demo.generate import main

raise SystemExit(main())
