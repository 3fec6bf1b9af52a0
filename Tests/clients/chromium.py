"""What the dashboard's browser tests share: Debian's headless Chromium through Selenium, started the
same way each time, and signing in with the token on the dashboard's own /login form."""
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait


def driver():
    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for a in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1280,1400",
              "--no-first-run", "--disable-background-networking", "--disable-component-update"]:
        opts.add_argument(a)
    d = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
    d.set_page_load_timeout(30)
    return d


def sign_in(d, base, token):
    d.get(base + "/login")
    d.find_element(By.NAME, "token").send_keys(token)
    d.find_element(By.CSS_SELECTOR, "main form button").click()
    WebDriverWait(d, 30).until(lambda x: "/login" not in x.current_url)
