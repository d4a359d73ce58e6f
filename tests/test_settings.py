"""The city configuration file: the demo file loads; every mistake is reported with file and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from data_access.config.city import (
    CITY_ENV,
    DEFAULT_CITY_FILE,
    CityFile,
    DisplaySection,
    SettingsProblem,
    ThreeRates,
    load_city,
)
from data_access.config.validation import setting_keys
from data_access.semantic.metric_registry import METRICS


def test_demo_city_loads() -> None:
    city = load_city(DEFAULT_CITY_FILE)
    assert (city.name, city.timezone, city.datum) == ("杭州市", "Asia/Shanghai", "GCJ-02")
    assert city.three_rates == ThreeRates(0.1, 0.5, 0.4, 0.9)
    assert set(city.geo) == {"district", "street", "community", "grid"}
    assert all(layer.file.is_file() for layer in city.geo.values())
    assert city.targets["service_on_time_rate"] == 0.95


def test_every_configured_target_names_a_metric() -> None:
    assert set(load_city(DEFAULT_CITY_FILE).targets) <= set(METRICS)


def _write(tmp_path: Path, text: str) -> Path:
    base = DEFAULT_CITY_FILE.read_text(encoding="utf-8")
    path = tmp_path / "city.toml"
    path.write_text(base + text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("\n[colours]\na = 1\n", "unknown section \\[colours\\]"),
        ("\n[three_rates]\nresponse_weight = 0.2\n", "not valid TOML"),  # duplicate table
        ("\n[geo.block]\nfile = 'x'\ncode_property = 'c'\nname_property = 'n'\n", "unknown region level"),
    ],
)
def test_mistakes_are_named(tmp_path: Path, extra: str, message: str) -> None:
    path = _write(tmp_path, extra)
    with pytest.raises(SettingsProblem, match=message):
        load_city(path)


def test_mistyped_target_and_missing_geo_file(tmp_path: Path) -> None:
    text = DEFAULT_CITY_FILE.read_text(encoding="utf-8")
    for old, new, message in [
        ("refresh_seconds = 60", "refresh_seconds = 'fast'", "refresh_seconds = 'fast' must be int"),
        ("refresh_seconds = 60", "refresh_every = 5", r"unknown key 'refresh_every' in \[display\]"),
        ("zoom = 7.6", "", r"\[city\] is missing zoom"),
    ]:
        path = tmp_path / "d.toml"
        path.write_text(text.replace(old, new), "utf-8")
        with pytest.raises(SettingsProblem, match=message):
            load_city(path)
    bad_target = tmp_path / "t.toml"
    bad_target.write_text(text.replace("service_on_time_rate = 0.95", 'service_on_time_rate = "95%"'), "utf-8")
    with pytest.raises(SettingsProblem, match=r"\[targets\] service_on_time_rate = '95%' must be a number"):
        load_city(bad_target)
    missing = tmp_path / "m.toml"
    missing.write_text(text.replace("grids.geojson", "nowhere.geojson"), "utf-8")
    with pytest.raises(
        SettingsProblem, match=r"\[geo.grid\] file 'assets/geo/hangzhou/nowhere.geojson' does not exist"
    ):
        load_city(missing)
    with pytest.raises(SettingsProblem, match="does not exist"):
        load_city(tmp_path / "absent.toml")


def test_every_setting_and_variable_is_documented(repo_root: Path) -> None:
    """Datasette-style: a key the city model accepts but docs/configuration.md does not name fails here.

    The keys come from the pydantic models themselves, so a new field without documentation fails.
    """
    from data_access.runtime import engine

    doc = (repo_root / "docs" / "configuration.md").read_text(encoding="utf-8")
    keys = list(setting_keys(CityFile))
    # The walk must reach every depth: sections, their keys, [geo.<level>], [categories.<domain>.<code>].
    assert {"city", "zoom", "three_rates", "basic_satisfied_factor", "display", "default_period"} <= set(keys)
    assert {"geo", "parent_property", "targets", "time_limits", "service_cases_legal"} <= set(keys)
    assert {"categories", "aliases", "time_limit_hours"} <= set(keys) and len(keys) >= 30
    keys += [
        engine.URL_ENV,
        engine.DATA_DIR_ENV,
        CITY_ENV,
        "COCKPIT_TEST_POSTGRES_URL",
        "COCKPIT_TEST_MYSQL_URL",
    ]
    undocumented = [key for key in keys if f"`{key}`" not in doc and f"[{key}]" not in doc]
    assert undocumented == []


def test_a_new_setting_is_seen_by_the_documentation_walk() -> None:
    """A field added to any section model (here a nested one) shows up in the walked key list."""

    class NewDisplay(DisplaySection):
        blink_seconds: int = 3

    class NewCityFile(CityFile):
        display: NewDisplay = NewDisplay()

    assert "blink_seconds" in setting_keys(NewCityFile) and "blink_seconds" not in setting_keys(CityFile)


def test_default_period_is_checked(tmp_path: Path) -> None:
    text = DEFAULT_CITY_FILE.read_text(encoding="utf-8")
    assert load_city(DEFAULT_CITY_FILE).default_period == "month"
    path = tmp_path / "p.toml"
    path.write_text(text.replace('default_period = "month"', 'default_period = "quarter"'), "utf-8")
    with pytest.raises(SettingsProblem, match=r"default_period = 'quarter' must be one of today, week, month"):
        load_city(path)


def test_time_limits_and_categories(tmp_path: Path) -> None:
    demo = load_city(DEFAULT_CITY_FILE)
    assert demo.time_limits == {
        "complaints": 168.0,
        "grid_events": 72.0,
        "service_cases_promised": 480.0,
        "service_cases_legal": 480.0,
    }
    assert demo.categories == () and demo.geo["street"].parent_property == "parent_code"
    assert demo.geo["district"].parent_property is None
    path = _write(
        tmp_path,
        "\n[categories.complaints.A]\nname = '城乡建设'\naliases = ['Urban']\ntime_limit_hours = 48\n"
        "\n[categories.complaints.A1]\nname = '路灯'\nparent = 'A'\n",
    )
    first, second = load_city(path).categories
    assert (first.code, first.level, first.aliases, first.time_limit_hours) == ("A", 1, ("Urban",), 48.0)
    assert (second.code, second.level, second.parent, second.time_limit_hours) == ("A1", 2, "A", None)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("\n[categories.complaints.B]\nname = 'x'\nparent = 'A'\n", "parent 'A' is not a category of complaints"),
        ("\n[categories.parks.B]\nname = 'x'\n", r"unknown category domain \[categories.parks\]"),
        ("\n[categories.complaints.B]\naliases = ['x']\n", r"\[categories.complaints.B\] is missing name"),
        ("\n[categories.complaints.B]\nname = 'x'\ncolour = 1\n", "unknown key 'colour'"),
    ],
)
def test_category_mistakes_are_named(tmp_path: Path, extra: str, message: str) -> None:
    with pytest.raises(SettingsProblem, match=message):
        load_city(_write(tmp_path, extra))


def test_time_limit_mistakes_are_named(tmp_path: Path) -> None:
    text = DEFAULT_CITY_FILE.read_text(encoding="utf-8")
    for old, new, message in [
        ("complaints = 168.0", "complaints = 0", r"\[time_limits\] complaints = 0 must be a positive number"),
        ("complaints = 168.0", "hotline = 5", r"unknown key 'hotline' in \[time_limits\]"),
    ]:
        path = tmp_path / "t.toml"
        path.write_text(text.replace(old, new), "utf-8")
        with pytest.raises(SettingsProblem, match=message):
            load_city(path)


def test_sf_city_loads(repo_root: Path) -> None:
    city = load_city(repo_root / "config" / "sf_city.toml")
    assert (city.name, city.name_en, city.timezone, city.datum) == (
        "旧金山",
        "San Francisco",
        "America/Los_Angeles",
        "WGS-84",
    )
    assert set(city.geo) == {"district", "street"}
    assert len(city.categories) == 28 and all(c.level == 1 and c.aliases for c in city.categories)
    assert set(city.targets) <= set(METRICS)


def test_a_misspelt_key_is_named_not_the_key_it_hides(tmp_path: Path) -> None:
    """``zom = 7.6`` is reported as the unknown key it is, not as ``zoom`` missing."""
    path = tmp_path / "z.toml"
    path.write_text(DEFAULT_CITY_FILE.read_text(encoding="utf-8").replace("zoom = 7.6", "zom = 7.6"), "utf-8")
    with pytest.raises(SettingsProblem, match=r"unknown key 'zom' in \[city\] \(allowed: name, name_en, .*zoom\)"):
        load_city(path)
