"""Approves a drop the way a reviewer does: signs in to OmniPost's dashboard in real headless Chromium
(Debian's chromium through Selenium), opens the drop's page — which shows what would be posted — and
presses "Approve: send it". Prints one JSON line with what the page showed and said.

usage: dashboard_approve.py BASE TOKEN DROP_ID SCREENSHOT_DIR
"""
import json
import os
import sys

import chromium
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

base, token, drop_id, shots = sys.argv[1:5]
os.makedirs(shots, exist_ok=True)
out = {}
driver = chromium.driver()
try:
    wait = WebDriverWait(driver, 30)
    driver.get(base + "/drops/" + drop_id)
    out["buttonsSignedOut"] = len(driver.find_elements(By.XPATH, "//button[contains(., 'Approve')]"))
    chromium.sign_in(driver, base, token)
    driver.get(base + "/drops/" + drop_id)
    main = driver.find_element(By.TAG_NAME, "main").text
    out["pageShowsTitle"] = "form post" in main
    button = driver.find_element(By.XPATH, "//button[contains(., 'Approve: send it')]")
    driver.save_screenshot(os.path.join(shots, "approve-before.png"))
    button.click()
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "p.said")))
    out["said"] = driver.find_element(By.CSS_SELECTOR, "p.said").text
    out["url"] = driver.current_url
    driver.save_screenshot(os.path.join(shots, "approve-after.png"))
finally:
    driver.quit()
out["ok"] = True
print(json.dumps(out))
