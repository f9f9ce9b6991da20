"""Headless Chromium through selenium: the BrowserLauncher port, with the same guard, robots and rate limit."""

import shutil
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

from loguru import logger
from selenium import webdriver
from selenium.common.exceptions import (
    ElementNotInteractableException,
    StaleElementReferenceException,
    TimeoutException,
    WebDriverException,
)
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from llm_engineering.domain.crawling import Credentials, LoginForm, RenderedPage
from llm_engineering.domain.exceptions import BrowserUnavailableError, CrawlError
from llm_engineering.infrastructure.web.http_fetcher import USER_AGENT
from llm_engineering.infrastructure.web.network_guard import NetworkGuard
from llm_engineering.infrastructure.web.rate_limit import DomainRateLimiter
from llm_engineering.infrastructure.web.robots import RobotsPolicy

CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
INSTALL_HINT = "install Debian's chromium and chromium-driver (`make system-deps`, as root)"
# A sign-in form that a script renders again while it is being filled is filled again, this many times in all.
FILL_ATTEMPTS = 3


def _reason(error: WebDriverException) -> str:
    return str(error.msg or type(error).__name__).splitlines()[0]


def _replaced(error: WebDriverException) -> bool:
    """Whether the element went out of the page while it was used: a script rendered the form again."""
    detached = isinstance(error, StaleElementReferenceException | ElementNotInteractableException)
    return detached or "does not belong to the document" in str(error.msg or "")


class ChromiumBrowserSession:
    """One headless Chromium with a throwaway profile; every navigation passes the guard, robots and rate limit."""

    def __init__(
        self,
        driver: WebDriver,
        profile_dir: Path,
        *,
        guard: NetworkGuard,
        rate_limiter: DomainRateLimiter,
        robots: RobotsPolicy | None,
        wait_s: float,
        scroll_wait_s: float,
        max_bytes: int,
    ) -> None:
        self._driver = driver
        self._profile_dir = profile_dir
        self._guard = guard
        self._rate_limiter = rate_limiter
        self._robots = robots
        self._wait_s = wait_s
        self._scroll_wait_s = scroll_wait_s
        self._max_bytes = max_bytes

    def render(self, url: str, *, wait_for: str | None = None, scrolls: int = 0) -> RenderedPage:
        """Open the URL, wait for the `wait_for` element when given, scroll `scrolls` times, and return the page."""
        self._navigate(url)
        if wait_for is not None:
            self._wait_for(url, wait_for)
        for _ in range(scrolls):
            if not self._scroll_to_bottom():
                break
        return self._page(url)

    def log_in(self, form: LoginForm, credentials: Credentials) -> RenderedPage:
        """Fill and submit the login form with the credentials; the page shown afterwards."""
        self._navigate(form.url)
        for attempt in range(1, FILL_ATTEMPTS + 1):
            self._wait_for(form.url, form.username_field)
            try:
                self._fill_and_submit(form, credentials)
                break
            except TimeoutException as error:
                raise CrawlError(f"the sign-in form at {form.url} did not submit within {self._wait_s:g}s") from error
            except WebDriverException as error:
                if attempt == FILL_ATTEMPTS or not _replaced(error):
                    raise CrawlError(f"could not fill the sign-in form at {form.url}: {_reason(error)}") from error
                logger.info(
                    "The sign-in form at {} changed while it was filled ({}); filling it again.",
                    form.url,
                    _reason(error),
                )
        self._wait_until_loaded(form.url)
        return self._page(form.url)

    def _fill_and_submit(self, form: LoginForm, credentials: Credentials) -> None:
        for selector, text in (
            (form.username_field, credentials.username),
            (form.password_field, credentials.password),
        ):
            field = self._driver.find_element(By.CSS_SELECTOR, selector)
            field.clear()
            field.send_keys(text)
        submit = self._driver.find_element(By.CSS_SELECTOR, form.submit_button)
        submit.click()
        # The form's button disappears once the browser has left the sign-in page.
        WebDriverWait(self._driver, self._wait_s).until(expected_conditions.staleness_of(submit))

    def close(self) -> None:
        """Quit the browser; a failure to quit is logged, not raised."""
        try:
            self._driver.quit()
        except WebDriverException as error:
            logger.warning("Chromium did not quit cleanly: {}", _reason(error))
        finally:
            shutil.rmtree(self._profile_dir, ignore_errors=True)

    def _navigate(self, url: str) -> None:
        self._guard.resolve(url)
        if self._robots is not None:
            self._robots.check(url)
        self._rate_limiter.wait(urlsplit(url).hostname or "")
        try:
            self._driver.get(url)
        except TimeoutException as error:
            raise CrawlError(f"{url} did not load within {self._wait_s:g}s; the site is down or too slow") from error
        except WebDriverException as error:
            raise CrawlError(f"Chromium could not load {url}: {_reason(error)}") from error

    def _wait_for(self, url: str, selector: str) -> None:
        try:
            WebDriverWait(self._driver, self._wait_s).until(
                expected_conditions.presence_of_element_located((By.CSS_SELECTOR, selector))
            )
        except TimeoutException as error:
            raise CrawlError(
                f"{url} showed no {selector!r} within {self._wait_s:g}s: not the expected kind of page"
            ) from error

    def _wait_until_loaded(self, url: str) -> None:
        try:
            WebDriverWait(self._driver, self._wait_s).until(
                lambda driver: driver.execute_script("return document.readyState") == "complete"
            )
        except TimeoutException as error:
            raise CrawlError(f"the page after {url} did not finish loading within {self._wait_s:g}s") from error

    def _scroll_to_bottom(self) -> bool:
        """Scroll once; True when the page grew (more content was loaded), False at the end."""
        height = self._driver.execute_script("return document.body.scrollHeight")
        self._driver.execute_script("window.scrollTo(0, document.body.scrollHeight);")
        try:
            WebDriverWait(self._driver, self._scroll_wait_s, poll_frequency=0.1).until(
                lambda driver: driver.execute_script("return document.body.scrollHeight") > height
            )
        except TimeoutException:
            return False
        return True

    def _page(self, url: str) -> RenderedPage:
        final_url = self._driver.current_url
        # Redirects happen inside the browser: the page it ended on must pass the guard too.
        self._guard.resolve(final_url)
        html = self._driver.page_source
        if len(html.encode("utf-8")) > self._max_bytes:
            raise CrawlError(f"{url} is larger than the {self._max_bytes}-byte cap; raise max_page_bytes to crawl it")
        return RenderedPage(url=url, final_url=final_url, html=html)


class ChromiumBrowserLauncher:
    """The BrowserLauncher port: a fresh headless Chromium per launch, from the system's chromium + chromedriver."""

    def __init__(
        self,
        *,
        guard: NetworkGuard,
        rate_limiter: DomainRateLimiter,
        robots: RobotsPolicy | None,
        page_load_timeout_s: float,
        scroll_wait_s: float,
        max_bytes: int,
        user_agent_token: str = USER_AGENT,
        chromium_path: Path | None = None,
        chromedriver_path: Path | None = None,
    ) -> None:
        self._guard = guard
        self._rate_limiter = rate_limiter
        self._robots = robots
        self._page_load_timeout_s = page_load_timeout_s
        self._scroll_wait_s = scroll_wait_s
        self._max_bytes = max_bytes
        self._user_agent_token = user_agent_token
        self._chromium = chromium_path or _on_path(*CHROMIUM_NAMES)
        self._chromedriver = chromedriver_path or _on_path("chromedriver")

    def launch(self) -> ChromiumBrowserSession:
        """Start Chromium with a new profile directory; raises BrowserUnavailableError when it cannot start."""
        # Never let Selenium fetch a browser or driver from the internet: use the system's, or say what is missing.
        if self._chromium is None or self._chromedriver is None:
            missing = [
                name
                for name, path in (("chromium", self._chromium), ("chromedriver", self._chromedriver))
                if path is None
            ]
            raise BrowserUnavailableError(
                f"headless Chromium cannot start: no {' or '.join(missing)} on PATH; {INSTALL_HINT}."
            )
        profile_dir = Path(tempfile.mkdtemp(prefix="llm-twin-chromium-"))
        options = Options()
        for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile_dir}"):
            options.add_argument(flag)
        options.binary_location = str(self._chromium)
        service = Service(executable_path=str(self._chromedriver))
        try:
            driver = webdriver.Chrome(service=service, options=options)
        except WebDriverException as error:
            shutil.rmtree(profile_dir, ignore_errors=True)
            raise BrowserUnavailableError(
                f"headless Chromium did not start ({_reason(error)}); {INSTALL_HINT}."
            ) from error
        try:
            driver.set_page_load_timeout(self._page_load_timeout_s)
            # Keep the browser's own user agent (sites serve browsers their real pages) and name the project.
            browser_agent = driver.execute_script("return navigator.userAgent")
            driver.execute_cdp_cmd(
                "Network.setUserAgentOverride", {"userAgent": f"{browser_agent} {self._user_agent_token}"}
            )
        except WebDriverException as error:
            driver.quit()
            shutil.rmtree(profile_dir, ignore_errors=True)
            raise CrawlError(f"headless Chromium started but cannot be driven: {_reason(error)}") from error
        return ChromiumBrowserSession(
            driver,
            profile_dir,
            guard=self._guard,
            rate_limiter=self._rate_limiter,
            robots=self._robots,
            wait_s=self._page_load_timeout_s,
            scroll_wait_s=self._scroll_wait_s,
            max_bytes=self._max_bytes,
        )


def _on_path(*names: str) -> Path | None:
    for name in names:
        found = shutil.which(name)
        if found:
            return Path(found)
    return None
