"""The chat page in headless Chromium against the live service: asks for the key, streams an answer, lists sources;
once with a scripted answerer (exact text) and once with the real twin (sample corpus, Qdrant Edge, SmolLM2)."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from llm_engineering.infrastructure.db.mongo import MongoDataWarehouse
from llm_engineering.infrastructure.local.loopback import free_port, serving
from llm_engineering.settings import Settings
from tests.browser_support import headless_chromium
from tests.rag_support import prepare_sample_twin
from tests.service_support import live_service
from tests.twin_fakes import ScriptedAnswerer
from tools.ml_service import build_service

pytestmark = pytest.mark.slow
KEY = "page-key-789"
ANSWER = "Keep GPU costs down with spot instances."


@pytest.fixture
def browser() -> Iterator[WebDriver]:
    with headless_chromium("1000,800") as driver:
        yield driver


def test_the_page_asks_for_the_key_streams_the_answer_and_lists_sources(browser: WebDriver, tmp_path: Path) -> None:
    answerer = ScriptedAnswerer(piece_delay_s=0.15)
    with live_service(answerer, API_KEY=KEY) as service:
        browser.get(f"{service.url}/")
        wait = WebDriverWait(browser, 20)
        key_input = wait.until(expected_conditions.visibility_of_element_located((By.ID, "api-key")))
        key_input.send_keys(KEY)
        browser.find_element(By.CSS_SELECTOR, "#key-form button").click()
        wait.until(expected_conditions.invisibility_of_element_located((By.ID, "key-form")))
        wait.until(lambda driver: "scripted" in driver.find_element(By.ID, "model").text)
        browser.find_element(By.ID, "question").send_keys("How do you keep GPU costs down?")
        browser.find_element(By.ID, "send").click()
        answer = wait.until(expected_conditions.presence_of_element_located((By.CSS_SELECTOR, ".assistant .answer")))
        # Streamed: part of the answer shows before the whole of it.
        wait.until(lambda _driver: answer.text.startswith("Keep") and answer.text != ANSWER)
        wait.until(lambda driver: driver.find_elements(By.CSS_SELECTOR, ".assistant[data-done='true']"))
        assert answer.text == ANSWER
        links = [a.get_attribute("href") for a in browser.find_elements(By.CSS_SELECTOR, ".assistant .sources a")]
        assert links == [chunk.link for chunk in answerer.chunks]
        screenshot = tmp_path / "chat_page.png"
        assert browser.save_screenshot(str(screenshot))
    assert screenshot.stat().st_size > 10_000
    print(f"chat page screenshot: {screenshot}")


def test_the_page_chats_with_the_real_twin(
    browser: WebDriver, settings: Settings, warehouse: MongoDataWarehouse, llm_models_dir: Path, tmp_path: Path
) -> None:
    prepare_sample_twin(settings, warehouse, llm_models_dir)
    port = free_port()
    overrides = {"API_PORT": port, "API_MAX_NEW_TOKENS": 24, "API_KEY": SecretStr(KEY)}
    service_settings = settings.model_copy(update=overrides)
    with serving(build_service(service_settings), port, start_timeout_s=180) as url:
        browser.get(f"{url}/")
        wait = WebDriverWait(browser, 120)
        wait.until(expected_conditions.visibility_of_element_located((By.ID, "api-key"))).send_keys(KEY)
        browser.find_element(By.CSS_SELECTOR, "#key-form button").click()
        wait.until(lambda driver: "SmolLM2" in driver.find_element(By.ID, "model").text)
        browser.find_element(By.ID, "question").send_keys("Theo, is Spark worth it for small data?")
        browser.find_element(By.ID, "send").click()
        wait.until(lambda driver: driver.find_elements(By.CSS_SELECTOR, ".assistant[data-done='true']"))
        answer = browser.find_element(By.CSS_SELECTOR, ".assistant .answer").text
        assert answer.strip()
        assert not browser.find_elements(By.CSS_SELECTOR, ".assistant.error")
        links = [a.get_attribute("href") or "" for a in browser.find_elements(By.CSS_SELECTOR, ".assistant .sources a")]
        assert links and all(link.startswith("http") for link in links)
        assert len(links) == len(set(links))  # one line per document, however many of its passages were used
        screenshot = tmp_path / "chat_page_real_twin.png"
        assert browser.save_screenshot(str(screenshot))
    print(f"answer from the real twin: {answer!r}; screenshot: {screenshot}")
