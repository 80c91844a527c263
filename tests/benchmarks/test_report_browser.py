"""The HTML report, opened in headless Chromium: it loads cleanly and every chart is drawn."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from benchmarks.report import render

SAMPLE = Path(__file__).parent / "data" / "results-sample.json"
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
# Everything that could make Chromium reach the network or depend on a profile is switched off:
# the report must render from the file alone.
ARGUMENTS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1280,1000",
)
SVG_BOXES = """
return Array.from(document.querySelectorAll('svg')).map((svg) => {
  const box = svg.getBoundingClientRect();
  return [box.width, box.height];
});
"""


def test_report_renders_in_chromium(tmp_path: Path) -> None:
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if missing:
        pytest.skip(f"needs {' and '.join(missing)} (scripts/system-deps.sh installs them)")
    results = json.loads(SAMPLE.read_text(encoding="utf-8"))
    _, html = render.write_reports(results, tmp_path)
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in (*ARGUMENTS, f"--user-data-dir={tmp_path / 'profile'}"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    try:
        driver.get(html.as_uri())
        assert driver.title == render.document(results).title
        boxes = driver.execute_script(SVG_BOXES)
        assert len(boxes) >= 3
        assert all(width > 0 and height > 0 for width, height in boxes), boxes
        assert driver.execute_script("return document.querySelectorAll('figure svg').length") == (
            len(boxes)
        )
        note = driver.execute_script("return document.querySelector('.note').innerText")
        assert "synthetic data for tests" in note
        severe = [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
        assert severe == []
    finally:
        driver.quit()
