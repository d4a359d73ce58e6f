"""Early warning (风险研判与临期预警): the cockpit finds deadlines, surges, deterioration, stalls and repeats.

``run.compute_alerts`` is the entry point; ``cli`` is ``python -m data_access.alerts``; the rules
file is read by ``config``; each family of rules has its own module; ``docs/alerts.md`` explains
the method.
"""
