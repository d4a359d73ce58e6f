"""Five viewers at once on one app server: its memory (issue 18: ≤ 1.0 GB at scale 30).

Each viewer is its own browser context (its own Streamlit session, as five people on five machines):
the wall, the three topic pages and the workbench; then each does one thing (a drill on the wall's
map, a district filter on each topic page), and the server's resident memory is read after each
arrival and at the end (``bench.browser_stats.tree_memory``).
"""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING

from bench import browser_stats as stats
from bench.browser_steps import desktop_context
from bench.streamlit_floor import TOPICS, workbench_path
from tests.e2e import browser as web
from tests.e2e.pages import KIOSK, READY_ON

if TYPE_CHECKING:
    from collections.abc import Mapping

    from playwright.sync_api import Browser, Page

SETTLE_SECONDS = 5.0  # after the last rerun, before the final reading


def _filter_to_a_district(page: Page, need: tuple[str, ...]) -> None:
    page.locator(".st-key-district [data-testid='stSelectbox']").click()
    options = [option.inner_text() for option in page.get_by_role("option").all()]
    page.keyboard.press("Escape")
    with web.rerun(page, need):
        web.choose_option(page, "district", options[1])  # the first district (options[0] is 全部)


def measure_viewers(browser: Browser, env: Mapping[str, str | None]) -> tuple[stats.Memory, stats.Memory]:
    """A fresh server, five viewers arriving one by one, then each acting: (memory once all five are
    in, memory at the end)."""
    arrivals = [(KIOSK, web.COCKPIT_READY), *((f"/{domain}", READY_ON[domain]) for domain in TOPICS)]
    arrivals.append((workbench_path(), ()))
    contexts = []
    with web.streamlit_process(env) as (base, process):
        try:
            viewers: list[Page] = []
            for path, need in arrivals:
                context = desktop_context(browser)
                contexts.append(context)
                page = context.new_page()
                web.open_app(page, base + path, need)
                viewers.append(page)
            arrived = stats.tree_memory(process.pid)
            web.drill_largest_district(viewers[0])
            for page, domain in zip(viewers[1 : 1 + len(TOPICS)], TOPICS, strict=True):
                _filter_to_a_district(page, READY_ON[domain])
            time.sleep(SETTLE_SECONDS)
            return arrived, stats.tree_memory(process.pid)
        finally:
            for context in contexts:
                context.close()


def viewers_line(found: tuple[stats.Memory, stats.Memory] | None) -> str:
    if found is None:
        return "App server with five viewers at once: not measured (the run's log says why)."
    arrived, after = found
    return (
        f"App server with five viewers at once (the wall, the three topic pages and the workbench, each its own "
        f"session; then a drill and three district filters): {arrived.rss_kib / 1024:,.0f} MiB resident once all "
        f"five are in, {after.rss_kib / 1024:,.0f} MiB after their clicks, peak {after.hwm_kib / 1024:,.0f} MiB."
    )


def try_viewers(browser: Browser, env: Mapping[str, str | None]) -> tuple[stats.Memory, stats.Memory] | None:
    print("five viewers at once …", file=sys.stderr, flush=True)
    try:
        return measure_viewers(browser, env)
    except Exception as exc:  # one broken measurement does not lose the rounds before it
        print(f"  five viewers: failed ({type(exc).__name__}: {str(exc)[:300]})", file=sys.stderr, flush=True)
        return None
