"""A person signing in with a real browser: Debian's chromium, headless, driven by python3-selenium and
chromium-driver, on oidc-provider's own login and consent pages; and a browser command for
pam_oauth2_token that records each call so the test can hand the address to that browser.
Shared by tests/tools/test_browser_sign_in.py and tests/e2e/test_browser_postgres.py.

Needs Debian's /usr/bin/python3 (python3-selenium lives there)."""

import os
import time

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By


def start_browser():
    """A headless chromium that trusts any certificate (the provider's is from the test's own CA)."""
    options = Options()
    options.binary_location = "/usr/bin/chromium"
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--no-first-run", "--disable-extensions"):
        options.add_argument(argument)
    options.accept_insecure_certs = True
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.implicitly_wait(15)  # each page of the sign-in loads after a click: wait for its elements
    return driver


def forget_sessions(driver):
    """Drops every cookie of every site, so the next sign-in logs in anew. The provider's session and
    interaction cookies are Secure ones of 127.0.0.1, which delete_all_cookies on an http page does not
    reach."""
    driver.execute_cdp_cmd("Network.clearBrowserCookies", {})


def sign_in(driver, url, user="alice", consent=True):
    """What a person does in the browser: log in on oidc-provider's page as `user` (any password), then
    consent or cancel. Returns the text of the page the browser lands on (the helper's listener)."""
    driver.get(url)
    driver.find_element(By.NAME, "login").send_keys(user)
    driver.find_element(By.NAME, "password").send_keys("any password")
    driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    # The consent page (waited for: until it is there, the login page and its links still are).
    driver.find_element(By.CSS_SELECTOR, "input[name=prompt][value=consent]")
    if consent:
        driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    else:
        driver.find_element(By.XPATH, "//a[contains(text(), 'Cancel')]").click()
    for _ in range(100):
        if driver.current_url.startswith(("http://127.0.0.1:", "http://localhost:")):
            break
        time.sleep(0.1)
    return driver.find_element(By.TAG_NAME, "body").text


class BrowserCommand:
    """A browser command for pam_oauth2_token (--browser, or browser = in a profile): a shell script
    that records each call, its argument count and then its arguments one per line, in a file of its
    own, and returns at once. The test reads the address from there and opens it in the driven browser;
    the number of files says how often the helper opened a browser."""

    def __init__(self, directory):
        self.path = os.path.join(directory, "browser.sh")
        self.calls_dir = os.path.join(directory, "browser-calls")
        os.mkdir(self.calls_dir, 0o700)
        # Written whole under a dot name, then renamed: the test never reads half a call.
        with open(self.path, "w") as f:
            f.write(f"#!/bin/sh\nprintf '%s\\n' \"$#\" \"$@\" > {self.calls_dir}/.$$ && "
                    f"mv {self.calls_dir}/.$$ {self.calls_dir}/$$\n")
        os.chmod(self.path, 0o700)

    def calls(self):
        """Every call so far, oldest first: the list of its arguments."""
        names = [name for name in os.listdir(self.calls_dir) if not name.startswith(".")]
        names.sort(key=lambda name: os.stat(os.path.join(self.calls_dir, name)).st_mtime_ns)
        found = []
        for name in names:
            with open(os.path.join(self.calls_dir, name)) as f:
                count, *arguments = f.read().splitlines()
            if int(count) != len(arguments):
                raise AssertionError(f"an argument of the browser command holds a newline: {arguments}")
            found.append(arguments)
        return found

    def wait_for_call(self, number=1, timeout=30):
        """The arguments of call `number` (1 is the first), once it is made; None if it is not within
        `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            calls = self.calls()
            if len(calls) >= number:
                return calls[number - 1]
            time.sleep(0.1)
        return None
