"""The console in a real browser (Debian's chromium driven by selenium) served by waitress, as
``minshi serve`` serves it: a clerk plays a month, with screenshots kept as test artifacts."""
from __future__ import annotations

import os
import shutil
import threading
import time
from pathlib import Path

import pytest

from minshi_xls import collect, consolidated
from minshi_xls.master import import_notice
from minshi_xls.web import Project, make_server
from minshi_xls.web.app import create_app

from minshi_xls import columns as C
from tests.test_collect_support import fill
from tests.test_web import BAD, CLEAN, PERIOD, make_returns

pytestmark = pytest.mark.browser
TOKEN = "browser-token-0123456789"
LATE = "市教育局"


def _driver(downloads: Path):
    webdriver = pytest.importorskip("selenium.webdriver")
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium and driver):
        pytest.skip("chromium and chromium-driver are not installed")
    from selenium.webdriver.chrome.service import Service
    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1280,900", "--lang=zh-CN"):
        opts.add_argument(arg)
    opts.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                           "download.prompt_for_download": False})
    return webdriver.Chrome(service=Service(driver), options=opts)


@pytest.fixture
def served(tmp_path):
    root = tmp_path / "office"
    import_notice(None, root / "output" / "master.xlsx")
    app = create_app(Project.at(root), token=TOKEN, period=PERIOD)
    server = make_server(app, "127.0.0.1", 0)
    t = threading.Thread(target=server.run, daemon=True)
    t.start()
    try:
        yield root, f"http://127.0.0.1:{server.effective_port}"
    finally:
        server.close()


def test_a_clerk_plays_the_month_in_the_browser(served, tmp_path):
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    root, base = served
    shots = tmp_path / "screenshots"
    shots.mkdir()
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    browser = _driver(downloads)
    wait = WebDriverWait(browser, 120)

    def shot(name):
        browser.save_screenshot(str(shots / f"{name}.png"))

    def step_done():
        """Wait on the job page until the step has finished; its outcome text."""
        wait.until(lambda b: "正在进行" not in b.find_element(By.ID, "job-state").text)
        return browser.find_element(By.ID, "job-state").text

    def states():
        """Each unit's state word, read in one script call: the page reloads itself when the
        ledger changes, and element-by-element reads can straddle a reload (chromium then answers
        "Node … does not belong to the document", not a stale-element error)."""
        return browser.execute_script(
            "const out = {};"
            "for (const tr of document.querySelectorAll('#units tr.state')) {"
            "  const tag = tr.querySelector('.tag');"
            "  out[tr.getAttribute('data-unit')] = tag ? tag.textContent.trim() : null; }"
            "return out;")

    try:
        browser.get(f"{base}/p/{PERIOD}/")
        assert "访问令牌" in browser.find_element(By.ID, "message").text  # no token: refused
        browser.get(f"{base}/?token={TOKEN}")
        assert "token" not in browser.current_url
        assert set(states().values()) == {"未报送"}

        browser.find_element(By.ID, "step-templates").click()
        assert "已完成" in step_done()
        assert "份填报表" in browser.find_element(By.ID, "job-output").text
        shot("job")
        browser.find_element(By.LINK_TEXT, "返回本月情况").click()

        files, where = make_returns(root, tmp_path / "wechat")
        browser.find_element(By.ID, "files").send_keys("\n".join(str(f) for f in files))
        browser.find_element(By.ID, "upload-button").click()
        assert "已完成" in step_done()
        browser.find_element(By.LINK_TEXT, "返回本月情况").click()
        got = states()
        assert [got[u] for u in CLEAN] == ["已接收", "已接收"] and got[BAD] == "有错误"
        browser.set_window_size(1280, 1400)
        shot("month")
        browser.set_window_size(1280, 900)

        # a return collected on the command line meanwhile: the open page refreshes itself
        late = fill(root / "templates" / PERIOD / C.file_name(PERIOD, LATE),
                    tmp_path / "cli" / C.file_name(PERIOD, LATE))
        collect.run([str(late)], PERIOD, root / "output" / "minshi.sqlite",
                    root / "output" / "master.xlsx")
        WebDriverWait(browser, 30, ignored_exceptions=(StaleElementReferenceException,)).until(
            lambda b: states().get(LATE) == "已接收")

        browser.find_element(By.LINK_TEXT, BAD).click()
        assert browser.find_element(By.ID, "unit-state").text == "有错误"
        table = browser.find_element(By.CSS_SELECTOR, "table.issues").text
        assert where["cell"] in table and "约五成" in table

        # the unit sends its corrected file; the clerk drops it in and pins it
        fixed = fill(root / "templates" / PERIOD / C.file_name(PERIOD, BAD),
                     tmp_path / "wechat2" / f"{BAD}_6月_修改.xlsx")
        browser.get(f"{base}/p/{PERIOD}/")
        browser.find_element(By.ID, "files").send_keys(str(fixed))
        browser.find_element(By.ID, "upload-button").click()
        assert "已完成" in step_done()
        browser.find_element(By.LINK_TEXT, "返回本月情况").click()
        assert states()[BAD] == "已接收"
        browser.find_element(By.LINK_TEXT, BAD).click()
        newest = browser.find_elements(By.CSS_SELECTOR, "section.version")[0]
        assert "采用此版本" in newest.text and "修改" in newest.text
        newest.find_element(By.NAME, "note").send_keys("单位电话确认以修改版为准")
        newest.find_element(By.CSS_SELECTOR, "button.pin").click()
        assert "已完成" in step_done()
        assert "已指定" in browser.find_element(By.ID, "job-output").text
        browser.find_element(By.ID, "back").click()
        newest = browser.find_elements(By.CSS_SELECTOR, "section.version")[0]
        assert "已指定" in newest.text
        assert browser.find_element(By.ID, "unit-state").text == "已接收"
        shot("unit")

        browser.get(f"{base}/p/{PERIOD}/")
        browser.find_element(By.ID, "step-remind").click()
        listed = [tr.get_attribute("data-unit")
                  for tr in browser.find_elements(By.CSS_SELECTOR, "#remind tr[data-unit]")]
        assert listed and not {BAD, LATE, *CLEAN} & set(listed)  # only the silent ones now
        shot("remind")

        browser.get(f"{base}/p/{PERIOD}/")
        browser.find_element(By.ID, "step-reconcile").click()
        assert "已完成" in step_done()
        browser.find_element(By.LINK_TEXT, "返回本月情况").click()
        name = consolidated.workbook_name(PERIOD)
        browser.find_element(By.LINK_TEXT, name).click()
        target = downloads / name
        deadline = time.monotonic() + 60
        want = (root / "output" / PERIOD / name).read_bytes()
        # chromium may show the final name before the bytes are in: wait for the whole file
        while time.monotonic() < deadline and not (
                target.exists() and target.stat().st_size == len(want)
                and not list(downloads.glob("*.crdownload"))):
            time.sleep(0.2)
        assert target.read_bytes() == want

        browser.set_window_size(390, 844)  # a phone
        browser.get(f"{base}/p/{PERIOD}/figures")
        assert "平均完成率" in browser.find_element(By.TAG_NAME, "main").text
        width = browser.execute_script("return document.documentElement.scrollWidth")
        assert width <= 400, "the figures page must not scroll sideways on a phone"
        shot("figures_phone")
    finally:
        browser.quit()
        keep = os.environ.get("MINSHI_SCREENSHOTS")  # copy for docs/ when asked
        if keep:
            Path(keep).mkdir(parents=True, exist_ok=True)
            for p in shots.glob("*.png"):
                shutil.copy(p, Path(keep) / p.name)
