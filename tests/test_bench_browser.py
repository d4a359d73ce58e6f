"""The browser benchmark's pure parts: statistics over rounds, server memory, the table and the markers.

No browser and no timing here: ``python -m bench --browser`` itself is not part of the test suite.
"""

from __future__ import annotations

import json
from pathlib import Path

from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from bench import browser_stats as stats
from bench import streamlit_floor as floor
from bench.browser_steps import Target, step_names

STATUS = """Name:\tpython
State:\tS (sleeping)
Pid:\t4242
VmPeak:\t 1200000 kB
VmHWM:\t  409600 kB
VmRSS:\t  307200 kB
Threads:\t12
"""


def test_summary_takes_min_and_median_of_finished_rounds_only() -> None:
    samples = [
        stats.Sample("wall, cold", 3.0, 1.0),
        stats.Sample("drill", None, 2.5),
        stats.Sample("wall, cold", 1.0, 2.0),
        stats.Sample("drill", 0.5, 0.4),
        stats.Sample("wall, cold", 2.0, 1.5),
    ]
    summary = stats.summarise(samples)
    assert list(summary) == ["wall, cold", "drill"]
    assert summary["wall, cold"] == stats.Summary("wall, cold", 1.0, 2.0, 3, 3, 1.0, 2.0)
    assert summary["drill"] == stats.Summary("drill", 0.5, 0.5, 1, 2, 0.4, 2.5)


def test_a_step_that_never_finished_has_no_figures() -> None:
    summary = stats.summarise([stats.Sample("export", None, 1.0)])["export"]
    assert (summary.minimum, summary.median, summary.finished) == (None, None, 0)


def test_status_fields_are_read_in_kib_and_missing_ones_are_zero() -> None:
    assert stats.parse_status(STATUS) == (307200, 409600)
    assert stats.parse_status("Name:\tzombie\nState:\tZ (zombie)\n") == (0, 0)


def _process(proc: Path, pid: int, parent: int, rss: int, hwm: int) -> None:
    folder = proc / str(pid)
    folder.mkdir()
    (folder / "stat").write_text(f"{pid} (python (x) y) S {parent} 1 1 0 -1\n")
    (folder / "status").write_text(f"Name:\tpython\nVmHWM:\t{hwm} kB\nVmRSS:\t{rss} kB\n")


def test_memory_sums_the_server_and_its_descendants_only(tmp_path: Path) -> None:
    _process(tmp_path, 10, 1, 1000, 1500)  # the server
    _process(tmp_path, 11, 10, 200, 300)  # its child (a PNG export's Chromium, say)
    _process(tmp_path, 12, 11, 50, 60)  # a grandchild
    _process(tmp_path, 20, 1, 9999, 9999)  # someone else's process
    (tmp_path / "self").mkdir()  # not a pid
    assert sorted(stats.child_pids(10, tmp_path)) == [11]
    assert stats.tree_memory(10, tmp_path) == stats.Memory(1250, 1860, 3)
    assert stats.tree_memory(99, tmp_path) == stats.Memory(0, 0, 0)  # gone


def test_memory_line_shows_the_range_over_rounds_in_mib() -> None:
    line = stats.memory_line(
        "App server", [stats.Memory(300 * 1024, 400 * 1024, 1), stats.Memory(310 * 1024, 400 * 1024, 1)]
    )
    assert line.startswith("App server: 300–310 MiB resident after the steps, peak 400 MiB")
    assert "child" not in line
    assert stats.memory_line("Floor server", []) == "Floor server: not measured."


def test_table_has_a_row_per_step_with_ratio_and_footnoted_missing_floor() -> None:
    page = stats.summarise([stats.Sample("wall, cold", 4.0, 1.0), stats.Sample("drill", 1.5, 1.2)])
    floor_ = stats.summarise([stats.Sample("wall, cold", 2.0, 1.1), stats.Sample("drill", None, 1.3)])
    lines = stats.step_table(page, floor_, {"drill": "¹"})
    assert lines[0].startswith("| step | page, min | page, median | floor, min | floor, median | page ÷ floor")
    assert len(lines) == 4
    assert lines[2] == "| wall, cold | 4.00 | 4.00 | 2.00 | 2.00 | 2.0× | 1/1 / 1/1 | 1.0–1.1 |"
    assert lines[3] == "| drill | 1.50 | 1.50 | —¹ | —¹ | — | 1/1 / 0/1 | 1.2–1.3 |"


def test_markers_are_replaced_and_the_text_around_them_kept() -> None:
    text = f"# Benchmarks\n\nbefore\n\n{stats.MARK_START}\nold table\n{stats.MARK_END}\n\nafter\n"
    new = stats.replace_section(text, "new table\n")
    assert new == f"# Benchmarks\n\nbefore\n\n{stats.MARK_START}\nnew table\n{stats.MARK_END}\n\nafter\n"
    assert stats.replace_section(new, "new table") == new


def test_markers_are_appended_when_missing() -> None:
    new = stats.replace_section("# Benchmarks\n\nthe query layer\n", "table")
    assert new == f"# Benchmarks\n\nthe query layer\n\n{stats.MARK_START}\ntable\n{stats.MARK_END}\n"


def test_floor_messages_survive_the_file_round_trip(tmp_path: Path) -> None:
    first, second = ForwardMsg(), ForwardMsg()
    first.delta.new_element.markdown.body = "三率"
    first.metadata.delta_path[:] = [0, 1]
    second.page_config_changed.title = "驾驶舱"
    floor.write_messages(tmp_path / "x.msgs", [first, second])
    assert floor.read_messages(tmp_path / "x.msgs") == [first, second]


def test_replay_keeps_deltas_and_page_config_without_timers_or_fragment_ids() -> None:
    element, timer, finished, config = ForwardMsg(), ForwardMsg(), ForwardMsg(), ForwardMsg()
    element.delta.new_element.markdown.body = "x"
    element.delta.fragment_id = "f1"
    timer.auto_rerun.interval = 60
    finished.script_finished = 1
    config.page_config_changed.title = "t"
    kept = floor.replayable([element, timer, finished, config])
    assert [message.WhichOneof("type") for message in kept] == ["delta", "page_config_changed"]
    assert kept[0].delta.fragment_id == ""
    assert element.delta.fragment_id == "f1"  # the capture itself is left alone


def _map(customdata: list[object], selectable: bool = True) -> ForwardMsg:
    message = ForwardMsg()
    chart = message.delta.new_element.plotly_chart
    chart.spec = json.dumps({"data": [{"type": "scatter"}, {"customdata": customdata}]})
    if selectable:
        chart.selection_mode.append(0)
    return message


def test_the_largest_region_is_the_one_with_most_hit_points_first_in_javascript_order() -> None:
    counts = floor.map_hit_counts([_map([["330102"], ["330127"], ["330127"], ["330105"], ["330105"]])])
    assert counts == {"330102": 1, "330127": 2, "330105": 2}
    assert floor.largest(counts) == "330105"  # a tie goes to the smaller numeric code, as Object.entries orders it
    assert floor.map_hit_counts([_map(["A"], selectable=False)]) == {}


def test_targets_address_the_app_and_the_floor() -> None:
    assert Target("http://h:1", floor=False).url("/?kiosk=1", "wall") == "http://h:1/?kiosk=1"
    assert Target("http://h:1", floor=True).url("/?kiosk=1", "wall") == "http://h:1/?snap=wall&kiosk=1"
    assert Target("http://h:1", floor=True).url("/grid", "grid") == "http://h:1/?snap=grid"
    assert len(step_names()) == len(set(step_names())) == 16
    assert floor.workbench_path() == "/explore?domain=complaints&dims=district,time&chart=stacked"


def test_the_reference_line_quotes_the_medians_and_says_when_nothing_was_measured() -> None:
    summary = stats.summarise(
        [
            stats.Sample("a title and a number", 0.8, 1.0),
            stats.Sample("the same and one small Plotly chart", 2.0, 1.0),
            stats.Sample("a title and a number", 0.6, 1.0),
            stats.Sample("the same and one small Plotly chart", 1.8, 1.0),
        ]
    )
    line = stats.reference_line(summary)
    assert "a title and a number 0.70 s; the same and one small Plotly chart 1.90 s." in line
    assert stats.reference_line({}) == "Streamlit alone: not measured."


def test_the_viewers_line_quotes_both_readings_or_says_it_was_not_measured() -> None:
    from bench.browser_viewers import viewers_line

    arrived, after = stats.Memory(400 * 1024, 410 * 1024, 1), stats.Memory(539 * 1024, 547 * 1024, 1)
    line = viewers_line((arrived, after))
    assert "400 MiB resident once all five are in, 539 MiB after their clicks, peak 547 MiB." in line
    assert viewers_line(None).endswith("not measured (the run's log says why).")
