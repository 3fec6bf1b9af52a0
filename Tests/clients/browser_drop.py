"""Drops clips through OmniPost's dashboard the two ways a person's browser would: with tuspy (the tus
project's Python client, an implementation independent of ours) sending a large clip in 8 MiB
pieces, cut mid-piece by a connection that closes, then resumed from the offset the server reports;
and in real headless Chromium (Debian's chromium through Selenium) through the Upload page's own
form and script. Prints one JSON line with what it saw.

usage: browser_drop.py BASE TOKEN BIG_CLIP SMALL_CLIP SCREENSHOT_DIR
"""
import json
import os
import socket
import sys
import time
import urllib.parse
import urllib.request

from tusclient import client
import chromium
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

base, token, big, small, shots = sys.argv[1:6]
os.makedirs(shots, exist_ok=True)
out = {}
CHUNK = 8 * 1024 * 1024


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


opener = urllib.request.build_opener(NoRedirect)


def request(method, path, headers=None, data=None):
    req = urllib.request.Request(base + path, method=method, headers=headers or {}, data=data)
    try:
        r = opener.open(req, timeout=30)
    except urllib.error.HTTPError as e:
        r = e
    return r.status, dict(r.headers), r.read().decode("utf-8", "replace")


# Signed in as the dashboard signs in; the page carries the CSRF value its script sends.
status, headers, _ = request("POST", "/login", {"Content-Type": "application/x-www-form-urlencoded"},
                             urllib.parse.urlencode({"token": token}).encode())
cookie = headers["Set-Cookie"].split(";")[0]
_, _, page = request("GET", "/upload", {"Cookie": cookie})
csrf = page.split('data-csrf="', 1)[1].split('"', 1)[0]
auth = {"Cookie": cookie, "X-CSRF-Token": csrf}

# Without the CSRF header a creation is refused, whatever the cookie.
out["noCsrf"] = request("POST", "/uploads", {"Cookie": cookie, "Tus-Resumable": "1.0.0", "Upload-Length": "10"})[0]
# A target the pipeline does not have is refused before any byte is sent.
tc = client.TusClient(base + "/uploads", headers=auth)
try:
    tc.uploader(small, chunk_size=CHUNK, metadata={"filename": "small.mp4", "targets": "nowhere:main"}).upload()
    out["badTarget"] = "accepted"
except Exception as e:  # tuspy raises TusCommunicationError with the server's answer
    out["badTarget"] = str(e)

# The large clip: three pieces, then a PATCH whose connection closes after 3 MiB of its 8.
up = tc.uploader(big, chunk_size=CHUNK, metadata={"filename": "big.mp4", "title": "Big one", "tags": "tus, resumed", "targets": "folder:nas"})
for _ in range(3):
    up.upload_chunk()
url = up.url
out["afterThree"] = up.offset
path = urllib.parse.urlparse(url).path
host = urllib.parse.urlparse(base)
with open(big, "rb") as f:
    f.seek(up.offset)
    piece = f.read(3 * 1024 * 1024)
s = socket.create_connection((host.hostname, host.port))
s.sendall((f"PATCH {path} HTTP/1.1\r\nHost: {host.netloc}\r\nTus-Resumable: 1.0.0\r\nUpload-Offset: {up.offset}\r\n"
           f"Content-Type: application/offset+octet-stream\r\nContent-Length: {CHUNK}\r\nCookie: {cookie}\r\nX-CSRF-Token: {csrf}\r\n\r\n").encode())
s.sendall(piece)
s.close()
# What the server kept of the cut piece (it keeps what arrived), once it has seen the connection end:
# the offset moves while the server is still writing what it received, so it is read until it has
# stood still for a second (a busy machine can take a while over the last bytes).
held, still = up.offset, 0
for _ in range(150):
    time.sleep(0.1)
    st, h, _ = request("HEAD", path, dict(auth, **{"Tus-Resumable": "1.0.0"}))
    now = int(h.get("Upload-Offset", "0"))
    still = still + 1 if now == held else 0
    held = now
    if held > up.offset and still >= 10:
        break
out["afterCut"] = held
# A PATCH from a stale offset is told where the upload stands.
st, h, _ = request("PATCH", path, dict(auth, **{"Tus-Resumable": "1.0.0", "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"}), b"x")
out["staleOffset"] = [st, h.get("Upload-Offset")]
# A new client resumes from the server's offset (tuspy asks with HEAD when given the upload's URL).
resumed = client.TusClient(base + "/uploads", headers=auth).uploader(big, url=url, chunk_size=CHUNK)
out["resumedFrom"] = resumed.offset
resumed.upload()
out["finalOffset"] = resumed.offset
st, h, _ = request("HEAD", path, dict(auth, **{"Tus-Resumable": "1.0.0"}))
out["drop"] = h.get("OmniPost-Drop")

# The Upload page in Chromium: its form and script, as a person uses them.
driver = chromium.driver()
try:
    wait = WebDriverWait(driver, 60)
    chromium.sign_in(driver, base, token)
    driver.get(base + "/upload")
    out["nav"] = driver.find_element(By.CSS_SELECTOR, 'nav a[href^="/upload"]').get_attribute("aria-current")
    driver.find_element(By.NAME, "files").send_keys(small)
    driver.find_element(By.NAME, "title").send_keys("From the browser")
    driver.find_element(By.NAME, "tags").send_keys("page, chromium")
    driver.find_element(By.CSS_SELECTOR, 'input[name=targets][value="folder:nas"]').click()
    driver.find_element(By.CSS_SELECTOR, "form#upload button[type=submit]").click()
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "#progress li.done, #progress li.failed")))
    li = driver.find_element(By.CSS_SELECTOR, "#progress li")
    out["pageState"] = li.get_attribute("class")
    out["pageSaid"] = li.text
    driver.save_screenshot(os.path.join(shots, "upload.png"))
    out["foreign"] = [n for n in driver.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
                      if urllib.parse.urlparse(n).netloc not in ("", host.netloc)]
finally:
    driver.quit()
out["ok"] = True
print(json.dumps(out))
