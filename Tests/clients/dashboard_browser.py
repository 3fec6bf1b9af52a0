"""Drives OmniPost's dashboard in real headless Chromium (Debian's chromium and chromium-driver,
through Selenium): renders each page with the run's data and saves a screenshot of it, checks that
nothing is loaded from anywhere but the daemon, that the live stream connects, signs in with the
token, presses Acknowledge on one failed drop and Retry on another, and searches the drops history.
Checks what a person sees of the layout: times on one line, the "said" banner inside the content
column, the icon served as SVG. Prints one JSON line with what it saw.

usage: dashboard_browser.py BASE TOKEN FAILED_DROP_ID SCREENSHOT_DIR ACKNOWLEDGE_DROP_ID
"""
import json
import os
import sys
import time
from urllib.parse import urlparse

import chromium
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

base, token, failed_id, shots, ack_id = sys.argv[1:6]
os.makedirs(shots, exist_ok=True)
out = {"pages": {}}

driver = chromium.driver()
wait = WebDriverWait(driver, 20)


def foreign_resources():
    """Every resource the page fetched, and every src/href it names, that is not the daemon's own."""
    origin = urlparse(base).netloc
    names = driver.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    attrs = driver.execute_script(
        "return Array.from(document.querySelectorAll('[src],[href]')).map(e => e.getAttribute('src') || e.getAttribute('href'))")
    bad = [n for n in names if urlparse(n).netloc not in ("", origin)]
    # Remote post links (a published post's URL) are anchors the user may follow, not resources loaded.
    anchors = set(driver.execute_script("return Array.from(document.querySelectorAll('a[href]')).map(e => e.getAttribute('href'))"))
    bad += [a for a in attrs if a and a not in anchors and urlparse(a).netloc not in ("", origin)]
    return bad


def visit(name, path):
    driver.get(base + path)
    wait.until(EC.presence_of_element_located((By.TAG_NAME, "main")))
    driver.save_screenshot(os.path.join(shots, name + ".png"))
    out["pages"][name] = {
        "title": driver.title,
        "h2": [e.text for e in driver.find_elements(By.CSS_SELECTOR, "h2")],
        "foreign": foreign_resources(),
        "svg": len(driver.find_elements(By.CSS_SELECTOR, "svg.chart")),
        "retryButtons": len(driver.find_elements(By.CSS_SELECTOR, "button.retry")),
        "text": driver.find_element(By.TAG_NAME, "main").text[:4000],
        # Times that take more than one line box wrapped mid-value.
        "times": len(driver.find_elements(By.CSS_SELECTOR, "time")),
        "wrappedTimes": driver.execute_script(
            "return Array.from(document.querySelectorAll('time')).filter(t => getComputedStyle(t).whiteSpace !== 'nowrap' || t.getClientRects().length > 1).map(t => t.textContent)"),
    }


try:
    visit("overview", "/")
    # The live stream: the script marks the page once the server said hello.
    try:
        WebDriverWait(driver, 10).until(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-live") == "connected")
        out["live"] = True
    except Exception:
        out["live"] = False
    visit("failures", "/failures")
    visit("drop", "/drops/" + failed_id)
    visit("accounts", "/accounts")
    visit("pipelines", "/pipelines")
    visit("history", "/drops")
    out["historyRows"] = len(driver.find_elements(By.CSS_SELECTOR, "table.history tbody tr"))
    out["navHistory"] = driver.find_element(By.CSS_SELECTOR, "nav a[href^='/drops']").get_attribute("aria-current")
    # The search form: by name, then narrowed by state.
    driver.find_element(By.ID, "search-name").send_keys("bad")
    driver.find_element(By.ID, "search-go").click()
    wait.until(EC.url_contains("name=bad"))
    out["searchByName"] = [e.text for e in driver.find_elements(By.CSS_SELECTOR, "table.history tbody tr td:first-child a")]
    driver.save_screenshot(os.path.join(shots, "history-search.png"))
    # The icon each page links to, fetched as the browser would.
    out["favicon"] = driver.execute_script(
        "const l = document.querySelector('link[rel=icon]'); return l ? fetch(l.href).then(r => r.headers.get('content-type')) : null")

    # Sign in with a wrong token first: refused, with a clear line.
    driver.get(base + "/login?back=/failures")
    driver.find_element(By.ID, "token").send_keys("not-the-token")
    driver.find_element(By.CSS_SELECTOR, "form.login button").click()
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "p.bad")))
    out["wrongToken"] = driver.find_element(By.CSS_SELECTOR, "p.bad").text

    driver.find_element(By.ID, "token").send_keys(token)
    driver.find_element(By.CSS_SELECTOR, "form.login button").click()
    wait.until(EC.url_contains("/failures"))
    visit("failures-signed-in", "/failures")
    # Acknowledge one failure: it leaves the list and shows behind the filter.
    driver.find_element(By.CSS_SELECTOR, "#drop-" + ack_id + " button.acknowledge").click()
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "p.said")))
    out["ackSaid"] = driver.find_element(By.CSS_SELECTOR, "p.said").text
    out["ackStillListed"] = len(driver.find_elements(By.CSS_SELECTOR, "#drop-" + ack_id))
    driver.find_element(By.ID, "show-acknowledged").click()
    wait.until(EC.url_contains("acknowledged=1"))
    out["ackBehindFilter"] = len(driver.find_elements(By.CSS_SELECTOR, "#drop-" + ack_id))
    driver.get(base + "/failures")
    button = driver.find_element(By.CSS_SELECTOR, "#drop-" + failed_id + " button.retry")
    button.click()
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "p.said")))
    out["said"] = driver.find_element(By.CSS_SELECTOR, "p.said").text
    # The banner sits inside the content column, within its edges.
    out["saidInMain"] = driver.execute_script(
        "const s = document.querySelector('p.said'), m = document.querySelector('main');"
        "const a = s.getBoundingClientRect(), b = m.getBoundingClientRect();"
        "return !!s.closest('main') && a.left >= b.left && a.right <= b.right")
    driver.save_screenshot(os.path.join(shots, "after-retry.png"))
    out["cookieFlags"] = [{"name": c["name"], "httpOnly": c.get("httpOnly"), "sameSite": c.get("sameSite")} for c in driver.get_cookies()]
    out["ok"] = True
except Exception as e:  # the Swift test reports what went wrong
    out["ok"] = False
    out["error"] = repr(e)
    try:
        driver.save_screenshot(os.path.join(shots, "error.png"))
        out["url"] = driver.current_url
    except Exception:
        pass
finally:
    driver.quit()
print(json.dumps(out))
