"""The review page in headless Chromium against the live service (real Mongo-wire server, ZenML artifacts): asks for
the key, then accept, edit, skip and swap by keyboard, with the progress count following, and a stale save refused."""

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from llm_engineering.infrastructure.db.mongo import MongoDataWarehouse
from llm_engineering.settings import Settings
from tests.browser_support import headless_chromium
from tests.review_support import GENERIC_KAFKA, SPOT, serve_reviews

pytestmark = pytest.mark.slow
KEY = "review-page-key-456"


@pytest.fixture
def browser() -> Iterator[WebDriver]:
    with headless_chromium("1200,900") as driver:
        yield driver


def test_a_reviewer_works_through_the_rows_by_keyboard(
    browser: WebDriver, settings: Settings, warehouse: MongoDataWarehouse, tmp_path: Path
) -> None:
    with serve_reviews(settings, warehouse, KEY) as service:
        api = httpx.Client(base_url=f"{service.url}/api/reviews", headers=service.headers, timeout=30)
        wait = WebDriverWait(browser, 20)

        def text(element_id: str) -> str:
            return str(browser.find_element(By.ID, element_id).text)

        def showing(instruction: str, progress: str) -> None:
            wait.until(lambda _driver: text("instruction") == instruction and text("progress").startswith(progress))

        def press(*keys: str) -> None:
            ActionChains(browser).send_keys(*keys).perform()

        browser.get(f"{service.url}/review")
        wait.until(expected_conditions.visibility_of_element_located((By.ID, "api-key"))).send_keys(KEY)
        browser.find_element(By.CSS_SELECTOR, "#key-form button").click()
        showing("How do you start when a GPU bill surprises you?", "0 of 6 reviewed")
        assert "Measure before you tune" in text("source-head")
        assert "I measure utilisation first" in text("excerpt")
        browser.find_element(By.ID, "reviewer").send_keys("Maya Okafor", Keys.ESCAPE)

        press("a")
        showing("What cut your GPU bill?", "1 of 6 reviewed")

        press("e")
        editor = wait.until(expected_conditions.visibility_of_element_located((By.ID, "edit-answer")))
        editor.clear()
        editor.send_keys("Spot instances halved it.")
        ActionChains(browser).key_down(Keys.CONTROL).send_keys(Keys.ENTER).key_up(Keys.CONTROL).perform()
        showing("Write about your first GPU bill.", "2 of 6 reviewed")
        [edited] = api.get("/samples", params={"status": "edited"}).json()["items"]
        assert (edited["answer"], edited["review"]["answer"]) == (SPOT, "Spot instances halved it.")
        assert edited["review"]["reviewer"] == "Maya Okafor"

        press("n")
        showing("Do small teams need Kafka?", "2 of 6 reviewed")
        press(Keys.ARROW_RIGHT)
        wait.until(expected_conditions.visibility_of_element_located((By.ID, "pair")))
        assert text("instruction-title").lower() == "prompt"
        [generic] = [
            choice.get_attribute("data-key")
            for choice in browser.find_elements(By.CSS_SELECTOR, ".choice")
            if choice.find_element(By.CSS_SELECTOR, ".text").text == GENERIC_KAFKA
        ]
        press(str(generic))  # the generic answer is the better one: the pair is swapped
        showing("What matters most in a feature store?", "3 of 6 reviewed")
        [swapped] = api.get("/samples", params={"status": "edited", "kind": "preference"}).json()["items"]
        assert swapped["review"]["verdict"] == "swap"

        # Another reviewer saves the pair on screen first: the page's save, made on the version it read, is refused.
        shown = browser.find_element(By.ID, "sample").get_attribute("data-id")
        other = {"verdict": "accept", "reviewer": "Theo Brandt", "version": 0}
        assert api.post(f"/samples/{shown}/verdict", json=other).status_code == 200
        press("r")
        wait.until(lambda _driver: "reviewed by Theo Brandt" in text("message"))
        assert browser.find_element(By.ID, "message").get_attribute("class") == "error"
        wait.until(lambda _driver: text("progress").startswith("4 of 6 reviewed"))
        assert text("meta").startswith("accepted by Theo Brandt")
        strategies = [row.text for row in browser.find_elements(By.CSS_SELECTOR, "#strategies tr")]
        assert "instruction backtranslation 1 of 3 100%" in strategies
        assert "instruction structure 1 of 1 0%" in strategies
        screenshot = tmp_path / "review_page.png"
        assert browser.save_screenshot(str(screenshot))
        api.close()
    assert screenshot.stat().st_size > 10_000
    print(f"review page screenshot: {screenshot}")
