"""The dashboard's files and ``analytics serve --demo``, over real HTTP to real processes (no browser).

The browser tests are in test_dashboard.py; these run without Chromium.
"""
import re
import subprocess
import sys

import httpx

from service_servers import ROOT, Service

from analytics.service.dashboard import sample

FILES = {"/": "text/html", "/static/app.js": "text/javascript", "/static/chart.js": "text/javascript",
         "/static/style.css": "text/css"}


def test_demo_fills_an_embedded_redis_and_prints_the_dashboard_url():
    service = Service(["--demo"]).start()
    try:
        output = service.output()
        found = re.search(r"Dashboard: http://127\.0\.0\.1:%d/#token=([A-Za-z0-9_-]{20,})\n" % service.port, output)
        assert found, output
        assert "No Redis configured: serving an embedded Redis" in output
        token = {"Authorization": "Bearer " + found.group(1)}
        assert httpx.get(service.url + "/v1/uids", params={"count": 1000}).status_code == 401
        uids = httpx.get(service.url + "/v1/uids", params={"count": 1000}, headers=token).json()
        assert uids["cursor"] == "0" and sorted(uids["uids"]) == sorted(sample.UIDS)
        expected = sum(count for uid, metric, _, count in sample.events() if (uid, metric) == ("user:1002", "likes"))
        counts = httpx.get(service.url + "/v1/counts", params={"uid": "user:1002", "metric": "likes"}, headers=token)
        assert counts.json()["counts"][0]["count"] == expected > 0
        # The generated token reads, and no more.
        written = httpx.post(service.url + "/v1/events", json={"uid": "u", "metric": "m"}, headers=token)
        assert written.status_code == 403
    finally:
        service.stop()


def test_demo_refuses_a_configured_redis():
    refused = subprocess.run([sys.executable, "-m", "analytics", "serve", "--demo", "--url", "redis://127.0.0.1:1/0"],
                             cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert refused.returncode == 2
    assert "--demo fills an embedded Redis of its own" in refused.stderr


def test_pages_need_no_token_load_only_their_own_files_and_revalidate():
    service = Service(["--token", "read:page-test-token"]).start()
    try:
        for path, kind in FILES.items():
            answer = httpx.get(service.url + path)
            assert answer.status_code == 200 and answer.headers["content-type"].startswith(kind)
            assert answer.headers["content-security-policy"].startswith("default-src 'none'")
            again = httpx.get(service.url + path, headers={"If-None-Match": answer.headers["etag"]})
            assert again.status_code == 304 and again.content == b""
        page = httpx.get(service.url + "/").text
        assert sorted(re.findall(r'(?:src|href)="([^"]+)"', page)) == [
            "#view=uids", "/docs", "/static/app.js", "/static/chart.js", "/static/style.css", "data:,"]
        for path in FILES:
            text = httpx.get(service.url + path).text
            assert "http://" not in text.replace("http://www.w3.org/2000/svg", "") and "https://" not in text
            assert "@import" not in text and "url(" not in text
        assert httpx.get(service.url + "/v1/uids").status_code == 401
        wrong = httpx.post(service.url + "/")
        assert wrong.status_code == 405 and wrong.headers["allow"] == "GET, HEAD"
    finally:
        service.stop()
