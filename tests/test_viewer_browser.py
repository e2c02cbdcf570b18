"""`valuesim view` in a real browser (Debian's chromium through selenium; `make browser` installs
it): a ValueSim study and a population run, served and as a static copy opened from disk. Each
page the test visits is saved as a screenshot in the test's tmp directory."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from viewer_helpers import EVIL_ID, EVIL_TEXT, Serving, add_evil_person, population, study

CHROMIUM, DRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (pip install -e '.[dev]')")
if not (CHROMIUM.exists() and DRIVER.exists()):
    pytest.skip("chromium and chromium-driver are not installed and could not be (`make browser` installs them "
                "as root)", allow_module_level=True)

from selenium.common.exceptions import NoAlertPresentException  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import Select  # noqa: E402

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
         "--window-size=1280,1000")


@pytest.fixture(scope="module")
def runs(tmp_path_factory, synthetic_file):
    root = tmp_path_factory.mktemp("viewer-browser")
    ev = study(root, synthetic_file(200, 2))
    add_evil_person(ev)
    return ev, population(root)


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    return tmp_path_factory.mktemp("screenshots")


@pytest.fixture(scope="module")
def browser():
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="valuesim-chromium-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = str(CHROMIUM)
    for flag in FLAGS + (f"--user-data-dir={profile}",):
        opts.add_argument(flag)
    driver = webdriver.Chrome(options=opts, service=Service(str(DRIVER)))
    driver.implicitly_wait(5)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


def shoot(driver, shots: Path, name: str) -> None:
    """A screenshot of the whole page (the window stretched to its height)."""
    height = driver.execute_script("return document.body.scrollHeight")
    driver.set_window_size(1280, min(max(height + 80, 600), 4000))
    assert driver.save_screenshot(str(shots / f"{name}.png"))


def no_alert(driver) -> None:
    with pytest.raises(NoAlertPresentException):
        driver.switch_to.alert.text


def browse(driver, shots: Path, start: str, prefix: str, static: bool) -> None:
    """The researcher's path: the study's overview, ValueSim's wrong answers, one person's backstory,
    modules and coordinator, then the population run and one country's distributions."""
    driver.get(start)
    driver.find_element(By.LINK_TEXT, "study").click()
    assert "Overall scores with confidence intervals" in driver.page_source
    assert "chance (uniform guess)" in driver.find_element(By.ID, "table-2").text
    shoot(driver, shots, f"{prefix}1-overview")

    driver.find_element(By.ID, "nav-predictions").click()
    Select(driver.find_element(By.ID, "filter-method")).select_by_value("valuesim")  # the page reloads filtered
    driver.find_element(By.XPATH, "//select[@id='filter-method']/option[@value='valuesim' and @selected]")
    Select(driver.find_element(By.ID, "filter-outcome")).select_by_value("wrong")
    driver.find_element(By.XPATH, "//select[@id='filter-outcome']/option[@value='wrong' and @selected]")
    rows = driver.find_elements(By.CSS_SELECTOR, "#predictions tbody tr")
    assert rows and all(r.get_attribute("class") == "wrong" for r in rows)
    assert {r.find_element(By.CSS_SELECTOR, "td").text for r in rows} == {"valuesim"}
    shoot(driver, shots, f"{prefix}2-valuesim-wrong")

    person = next(r for r in rows if EVIL_ID not in r.text).find_element(By.CSS_SELECTOR, "a.person")
    rid = person.text
    person.click()
    assert driver.find_element(By.ID, "person-id").text == rid
    story = driver.find_element(By.CSS_SELECTOR, "section.story")
    assert "Backstory (valuesim)" in story.text and "Fidelity audit" in story.text
    assert len(story.find_element(By.CSS_SELECTOR, "pre.backstory").text) > 100
    audit = story.find_elements(By.CSS_SELECTOR, "table.audit tbody tr")  # which sampled answers it recovered
    assert audit and {r.find_elements(By.TAG_NAME, "td")[-1].text for r in audit} <= {"yes", "no"}
    explain = next(d for d in driver.find_elements(By.CSS_SELECTOR, "details.explain")
                   if "coordinator" in d.get_attribute("innerHTML"))
    explain.find_element(By.TAG_NAME, "summary").click()
    text = explain.text
    for part in ("cognitive", "affective", "behavioral", "coordinator"):
        assert part in text, part
    shoot(driver, shots, f"{prefix}3-person")

    driver.find_element(By.LINK_TEXT, "pop").click()
    assert "Population run" in driver.page_source
    driver.find_element(By.CSS_SELECTOR, "#countries a.country").click()
    charts = driver.find_elements(By.CSS_SELECTOR, "figure.dist svg polyline")
    assert charts and "value-persona + calibration" in driver.page_source and "real" in driver.page_source
    assert len(driver.find_elements(By.CSS_SELECTOR, "#personas tbody tr")) == 6
    shoot(driver, shots, f"{prefix}4-country")
    no_alert(driver)


def test_browse_the_served_runs(runs, browser, shots):
    server = Serving(list(runs))
    try:
        browse(browser, shots, server.url, "served-", static=False)
    finally:
        server.close()


def test_a_hostile_backstory_is_shown_as_text(runs, browser, shots):
    from urllib.parse import quote

    server = Serving(list(runs))
    try:
        browser.get(server.url + "r/study/person/" + quote(EVIL_ID, safe=""))
        no_alert(browser)
        story = browser.find_element(By.CSS_SELECTOR, "pre.backstory").text
        assert "<script>alert(1)</script>" in story and "\x1b" not in story and "[31m" not in story
        assert story == "You are <script>alert(1)</script> red and done."
        assert EVIL_TEXT != story  # the escapes were removed
        assert browser.find_elements(By.TAG_NAME, "script")[-1].get_attribute("src").endswith("viewer.js")
        assert len(browser.find_elements(By.TAG_NAME, "script")) == 1  # only the viewer's own
        shoot(browser, shots, "hostile-person")
    finally:
        server.close()


def test_the_static_copy_opens_from_disk(runs, browser, shots, tmp_path):
    from valuesim.viewer import write_static

    index = write_static(list(runs), tmp_path / "copy")
    browse(browser, shots, index.resolve().as_uri(), "static-", static=True)
    assert browser.current_url.startswith("file://")
