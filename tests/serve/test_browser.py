"""The pages in a real browser: Debian chromium + chromedriver driven by selenium load `/`,
follow the link to the incident, and find the cause and the fix, and no Secret value. A
screenshot of each page is written as a test artifact (in pytest's tmp_path, printed)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from live import livekit
from paramedic.serve import settings, store

from . import servekit

SECRET_VALUES = [v for values in livekit.RAW_SECRETS.values() for v in values.values()]


@pytest.fixture
def browser() -> Iterator[object]:
    for binary in ("chromium", "chromedriver"):
        if shutil.which(binary) is None:
            pytest.skip(f"{binary} is not installed (apt install chromium chromium-driver)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(shutil.which("chromium"))
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-default-apps",
        "--disable-extensions",
        "--no-first-run",
        "--metrics-recording-only",
        "--window-size=412,915",  # a phone's viewport
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(str(shutil.which("chromedriver"))), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


def test_the_list_links_to_the_report_with_cause_and_fix_and_no_secret(
    browser: object, sqlite_db: store.Store, config: settings.Settings, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.remote.webdriver import WebDriver

    assert isinstance(browser, WebDriver)
    body = {"from": "user-service", "to": "profile-db.data", "port": 5432, "namespace": "app"}
    with servekit.running(sqlite_db, config) as url:
        incident_id = servekit.request("POST", f"{url}/api/v1/incidents", body)[2]["id"]
        servekit.wait_for(
            lambda: (r := sqlite_db.get(incident_id)) is not None and r.phase == "done",
            60,
            "the diagnosis",
        )
        browser.get(f"{url}/")
        listed = browser.find_element(By.TAG_NAME, "body").text
        browser.save_screenshot(str(tmp_path / "incidents.png"))
        browser.find_element(By.CSS_SELECTOR, f'a[href="/incidents/{incident_id}"]').click()
        assert browser.current_url == f"{url}/incidents/{incident_id}"
        page = browser.find_element(By.TAG_NAME, "body").text
        source = browser.page_source
        fix = browser.find_element(By.CSS_SELECTOR, "section.finding.cause pre").text
        browser.save_screenshot(str(tmp_path / "incident.png"))
        browser.find_element(By.LINK_TEXT, "All incidents").click()
        assert browser.current_url == f"{url}/"
    assert "network-policy" in listed and "open" in listed
    assert "CAUSE" in page and "network-policy" in page
    assert "Fix" in page and "NetworkPolicy" in fix
    for value in SECRET_VALUES:
        assert value not in page and value not in source and value not in listed
    for shot in ("incidents.png", "incident.png"):
        assert (tmp_path / shot).stat().st_size > 5000
    print(f"screenshots: {tmp_path / 'incidents.png'} {tmp_path / 'incident.png'}")
