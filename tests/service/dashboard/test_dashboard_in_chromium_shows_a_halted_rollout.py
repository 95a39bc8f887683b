"""A person opens the dashboard in a real browser (headless Debian Chromium through selenium and
chromedriver): the rollout list with its states and wave progress, a click into the halted
rollout and its reverted consumer, a click into that consumer; the rollout page is saved as
docs/dashboard.png (the README's screenshot)."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from dashboard_support import Fleet, dashboard_app, serving
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement

from bot.service.dashboard import DashboardAccess
from bot.store import Store

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
SCREENSHOT = Path(__file__).resolve().parents[3] / "docs" / "dashboard.png"

pytestmark = pytest.mark.skipif(
    not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
    reason="needs Debian's chromium and chromium-driver (/usr/bin/chromium, /usr/bin/chromedriver):"
    " apt-get install chromium chromium-driver (.ci/run installs them)",
)


@pytest.fixture
def browser() -> Iterator[WebDriver]:
    profile = tempfile.mkdtemp(prefix="evobot-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={profile}",
        "--window-size=1280,900",
        "--hide-scrollbars",
    ):
        options.add_argument(flag)
    service = webdriver.ChromeService(executable_path=str(CHROMEDRIVER))
    driver = webdriver.Chrome(options=options, service=service)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def _cells(row: WebElement) -> list[str]:
    return [cell.text for cell in row.find_elements(By.TAG_NAME, "td")]


def test_a_person_follows_the_halted_rollout_to_its_reverted_consumer(
    fleet_store: tuple[Store, Fleet], browser: WebDriver
) -> None:
    store, fleet = fleet_store
    app = dashboard_app(store, DashboardAccess(bind_host="127.0.0.1"))
    with serving(app) as base:
        browser.get(f"{base}/dashboard/")
        assert browser.title == "Rollouts · evobot dashboard"
        rows = browser.find_elements(By.CSS_SELECTOR, "table.rollouts tbody tr")
        assert [r.find_element(By.CSS_SELECTOR, "td a").text for r in rows] == [
            "fastapi-service 1.4.0",
            "fastapi-service 1.3.0",
        ]
        assert rows[0].find_element(By.CSS_SELECTOR, ".status").text == "halted"
        assert rows[1].find_element(By.CSS_SELECTOR, ".status").text == "completed"
        bars = rows[0].find_elements(By.TAG_NAME, "progress")
        assert [(b.get_attribute("value"), b.get_attribute("max")) for b in bars] == [
            ("1", "1"),
            ("2", "3"),
            ("0", "3"),
        ]
        waves = [w.text.split("\n") for w in rows[0].find_elements(By.CLASS_NAME, "wave")]
        assert waves[1][0] == "wave 1"
        assert "failed" in waves[1]
        metrics = browser.find_element(By.CSS_SELECTOR, "table.metrics tbody tr")
        assert _cells(metrics) == [
            "fastapi-service",
            "1.4.0",
            "4",
            "3",
            "0",
            "1",
            "2 h",
            "100%",
            "67%",
        ]

        rows[0].find_element(By.LINK_TEXT, "fastapi-service 1.4.0").click()
        assert browser.current_url == f"{base}/dashboard/rollouts/{fleet.new_key}"
        heading = browser.find_element(By.TAG_NAME, "h1").text
        assert heading == "fastapi-service 1.4.0 halted"
        search = browser.find_element(By.CSS_SELECTOR, 'tr[data-consumer="acme/search"]')
        assert _cells(search) == [
            "acme/search",
            "1",
            "reverted",
            "#13",
            "passed",
            "failed",
            "5 files, +50 -14",
            "1: app/settings.py",
            "revert #14 open",
        ]
        assert "failed" in (search.get_attribute("class") or "")
        SCREENSHOT.parent.mkdir(exist_ok=True)
        browser.set_window_size(1280, 900)
        assert browser.save_screenshot(str(SCREENSHOT))

        search.find_element(By.LINK_TEXT, "acme/search").click()
        assert browser.current_url == f"{base}/dashboard/consumers/acme/search"
        assert browser.find_element(By.TAG_NAME, "h1").text == "acme/search"
        facts = browser.find_element(By.CSS_SELECTOR, "dl.facts").text.split("\n")
        assert facts[:4] == ["Template", "fastapi-service", "Version", "1.3.0"]
        history = browser.find_element(By.CSS_SELECTOR, "table.history").text
        assert "current_version: '1.2.0' -> '1.3.0'" in history
        reverts = browser.find_elements(By.CSS_SELECTOR, "table.prs")[1].text
        assert "#14" in reverts
        assert "evobot/revert/fastapi-service/1.4.0" in reverts

    assert SCREENSHOT.stat().st_size < 300_000
