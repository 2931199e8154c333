"""The dashboard in a real headless Chromium, served by a real ``analytics serve`` over a real Redis.

Known counts are tracked through the library; every expected number below is
computed from those seeded counts (and, for weeks and months, checked against
what the library itself returns), never read back from the page's own code.
One browser for the module; the browser's console and network logs of every
test are kept and checked at the end: nothing logged as an error but the 401s
and 503s that the tests provoke, no request to any other origin.

Screenshots go to $ANALYTICS_ARTIFACTS (else a temporary folder); with
ANALYTICS_UPDATE_SCREENSHOTS=1 the metric and compare views are also saved as
the README's docs/dashboard-*.png.
"""
import calendar
import csv
import datetime
import io
import json
import os
from urllib.parse import urlsplit

import httpx
import pytest

from servers import RedisServer
from service_servers import ROOT, serve_settings

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
    pytest.skip("the dashboard tests need Chromium: apt-get install chromium chromium-driver",
                allow_module_level=True)
webdriver = pytest.importorskip("selenium.webdriver", reason="the dashboard tests need selenium: pip install selenium")
from selenium.common.exceptions import StaleElementReferenceException  # noqa: E402
from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.expected_conditions import staleness_of  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

from analytics import create_analytic_backend  # noqa: E402

TOKEN = "dash-read-5e6f7a"
UIDS = ["dash:1", "dash:2", "dash:3"]
METRICS = ["comments", "likes"]
TODAY = datetime.date.today()
DAYS = 400
#: Daily comments on a full weekday, per uid (likes are a quarter of that): dash:1's pass a thousand.
SCALE = {"dash:1": 1600, "dash:2": 900, "dash:3": 500}


def seeded(uid, metric, day):
    """The count tracked for one day: busier on weekdays, growing, never the same two days running."""
    back = (TODAY - day).days
    if not 0 <= back < DAYS:
        return 0
    wobble = (back * 7 + UIDS.index(uid) * 5 + METRICS.index(metric) * 3) % 13
    weekday = 1.0 if day.weekday() < 5 else 0.35
    scale = SCALE[uid] / (1 if metric == "comments" else 4)
    return int(scale * weekday * (DAYS - back) / DAYS * (wobble + 4) / 16)


def day_range(start, end):
    return [start + datetime.timedelta(days=i) for i in range((end - start).days + 1)]


def monday(day):
    return day - datetime.timedelta(days=day.weekday())


def week_total(uid, metric, first):
    return sum(seeded(uid, metric, first + datetime.timedelta(days=i)) for i in range(7))


def month_total(uid, metric, first):
    last = first.replace(day=calendar.monthrange(first.year, first.month)[1])
    return sum(seeded(uid, metric, day) for day in day_range(first, last))


def months_back(count):
    """The firsts of the ``count`` months up to this one."""
    firsts, year, month = [], TODAY.year, TODAY.month
    for _ in range(count):
        firsts.append(datetime.date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return firsts[::-1]


def us(number):
    return "{:,}".format(number)


@pytest.fixture(scope="module")
def redis():
    server = RedisServer().start()
    yield server
    server.cleanup()


@pytest.fixture(scope="module")
def library(redis):
    backend = create_analytic_backend({"backend": "analytics.backends.redis.Redis",
                                       "settings": {"hosts": [redis.url + "/0"]}})
    backend.track_metrics((uid, metric, day, seeded(uid, metric, day)) for uid in UIDS for metric in METRICS
                          for day in day_range(TODAY - datetime.timedelta(days=DAYS - 1), TODAY)
                          if seeded(uid, metric, day))
    backend.track_metric("other:9", "comments", TODAY)
    yield backend
    backend.close()


@pytest.fixture(scope="module")
def service(redis, library):
    started = serve_settings({"hosts": [redis.url + "/0"]}, "--token", "read:" + TOKEN)
    yield started
    started.stop()


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory):
    # pytest's own temporary folders: it keeps the last three runs', where mkdtemp left one per run behind.
    folder = os.environ.get("ANALYTICS_ARTIFACTS") or str(tmp_path_factory.mktemp("dashboard"))
    os.makedirs(folder, exist_ok=True)
    return folder


#: Every browser-console and network-log entry of the module, kept across tests.
LOGS = {"browser": [], "performance": []}


@pytest.fixture(scope="module")
def chromium(service, tmp_path_factory):
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    # The machine has no internet: without the background-networking flags Chromium keeps calling Google hosts.
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--lang=en-US", "--window-size=1280,800",
                 "--user-data-dir=%s" % tmp_path_factory.mktemp("chromium-profile")):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=webdriver.ChromeService(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def browser(chromium):
    yield chromium
    drain(chromium)


def drain(driver):
    for kind in LOGS:
        LOGS[kind].extend(driver.get_log(kind))


def until(driver, condition, timeout=15):
    # A chart redrawn between finding an element and reading it is "not yet", not a failure.
    return WebDriverWait(driver, timeout, poll_frequency=0.05, ignored_exceptions=[StaleElementReferenceException]
                         ).until(lambda _: condition())


def visit(driver, service, fragment, token=TOKEN, cold=False):
    """A fresh load of the dashboard at ``#fragment``, with ``token`` given in the URL (as --demo prints it).

    Without a token, the session's token is forgotten.  With ``cold`` the browser's cache is emptied
    first, so the page loads as on a first visit.
    """
    driver.get("about:blank")
    if cold:
        driver.execute_cdp_cmd("Network.clearBrowserCache", {})
    driver.get(service.url + "/#" + ("token=%s&" % token if token else "") + fragment)
    if not token:
        driver.execute_script("sessionStorage.clear()")
        driver.refresh()


def notice(driver):
    return driver.execute_script("var n = document.getElementById('notice'); return n.hidden ? '' : n.textContent;")


def points(driver, series=0):
    """``[(date, count)]`` of the chart's points of one series, read from the SVG (in one round trip)."""
    selector = ".chart g.points[data-series='%d'] circle" % series
    until(driver, lambda: driver.find_elements(By.CSS_SELECTOR, selector))
    return [tuple(point) for point in driver.execute_script(
        "return Array.from(document.querySelectorAll(arguments[0]), "
        "function (c) { return [c.getAttribute('data-date'), Number(c.getAttribute('data-count'))]; });", selector)]


def table(driver):
    return driver.execute_script(
        "return Array.from(document.querySelectorAll('table.numbers tbody tr'), function (row) {"
        " return Array.from(row.querySelectorAll('th, td'), function (cell) { return cell.textContent; }); });")


def press(driver, selector):
    """Click a control and wait for the view it leads to (the old chart leaves the page first)."""
    old = driver.find_element(By.CSS_SELECTOR, ".chart")
    driver.find_element(By.CSS_SELECTOR, selector).click()
    WebDriverWait(driver, 15, poll_frequency=0.05).until(staleness_of(old))


def screenshot(driver, artifacts, name, docs=None):
    driver.save_screenshot(os.path.join(artifacts, name))
    if docs and os.environ.get("ANALYTICS_UPDATE_SCREENSHOTS") == "1":
        driver.save_screenshot(os.path.join(ROOT, "docs", docs))


# -- the flows -----------------------------------------------------------------------

def test_token_then_uids_by_prefix_then_a_uids_totals(browser, service, artifacts):
    visit(browser, service, "", token=None)
    until(browser, lambda: "needs a token" in notice(browser))
    field = browser.find_element(By.ID, "token")
    field.send_keys("not-the-token", Keys.ENTER)
    until(browser, lambda: "did not accept this token (unknown token)" in notice(browser))
    screenshot(browser, artifacts, "wrong-token.png")
    browser.find_element(By.ID, "token").send_keys(TOKEN, Keys.ENTER)
    until(browser, lambda: browser.find_elements(By.CSS_SELECTOR, ".uids a"))
    assert browser.execute_script("return sessionStorage.getItem('analytics.token')") == TOKEN

    browser.find_element(By.ID, "prefix").send_keys("dash:", Keys.ENTER)
    until(browser, lambda: "prefix=dash" in browser.current_url and
          len(browser.find_elements(By.CSS_SELECTOR, ".uids a")) == 3)
    assert sorted(a.text for a in browser.find_elements(By.CSS_SELECTOR, ".uids a")) == UIDS

    browser.find_element(By.LINK_TEXT, "dash:2").click()
    rows = until(browser, lambda: browser.find_elements(By.CSS_SELECTOR, "table.totals tbody tr"))
    first_of_month = TODAY.replace(day=1)
    for row, metric in zip(rows, METRICS):
        cells = [cell.text for cell in row.find_elements(By.CSS_SELECTOR, "th, td")][1:]
        assert cells == [metric, us(seeded("dash:2", metric, TODAY)),
                         us(sum(seeded("dash:2", metric, d) for d in day_range(monday(TODAY), TODAY))),
                         us(sum(seeded("dash:2", metric, d) for d in day_range(first_of_month, TODAY))),
                         us(sum(seeded("dash:2", metric, d) for d in day_range(TODAY - datetime.timedelta(DAYS),
                                                                                 TODAY)))]
    screenshot(browser, artifacts, "uid.png")


def test_metric_chart_hover_weeks_months_table_and_csv(browser, service, library, artifacts):
    visit(browser, service, "view=uid&uid=dash:1")
    until(browser, lambda: browser.find_elements(By.LINK_TEXT, "comments"))[0].click()
    # The token given in the URL is kept for the session, and no longer in the address bar.
    assert "token" not in urlsplit(browser.current_url).fragment
    assert browser.execute_script("return sessionStorage.getItem('analytics.token')") == TOKEN
    days = day_range(TODAY - datetime.timedelta(days=29), TODAY)
    expected = [(day.isoformat(), seeded("dash:1", "comments", day)) for day in days]
    assert points(browser) == expected
    assert table(browser) == [[day, us(count)] for day, count in expected]

    big = max(days, key=lambda day: seeded("dash:1", "comments", day))
    circle = browser.find_element(By.CSS_SELECTOR, ".chart circle[data-date='%s']" % big.isoformat())
    ActionChains(browser).move_to_element(circle).perform()
    tip = browser.find_element(By.CSS_SELECTOR, ".tip")
    until(browser, tip.is_displayed)
    assert tip.text.split("\n") == [big.isoformat(), us(seeded("dash:1", "comments", big))]
    assert "," in tip.text.split("\n")[1]
    screenshot(browser, artifacts, "metric.png", docs="dashboard-metric.png")

    press(browser, "button[data-group='week']")
    first_week = monday(TODAY) - datetime.timedelta(weeks=11)
    weeks = [first_week + datetime.timedelta(weeks=i) for i in range(12)]
    assert points(browser) == [(w.isoformat(), week_total("dash:1", "comments", w)) for w in weeks]
    _, by_library = library.get_metric_by_week("dash:1", "comments", first_week, limit=12)
    assert points(browser) == sorted(by_library.items())
    assert "group_by=week" in browser.current_url

    press(browser, "button[data-group='month']")
    firsts = months_back(12)
    expected_months = [(m.isoformat(), month_total("dash:1", "comments", m)) for m in firsts]
    assert points(browser) == expected_months
    _, by_library = library.get_metric_by_month("dash:1", "comments", firsts[0], limit=12)
    assert points(browser) == sorted(by_library.items())
    screenshot(browser, artifacts, "metric-months.png")

    # Reloading shows the same view: its state is all in the URL.
    browser.refresh()
    assert points(browser) == expected_months
    assert browser.find_element(By.CSS_SELECTOR, "button[data-group='month']").get_attribute("aria-pressed") == "true"

    href = browser.find_element(By.LINK_TEXT, "CSV").get_attribute("href")
    assert urlsplit(href).path == "/v1/series" and "format=csv" in href
    answer = httpx.get(href, headers={"Authorization": "Bearer " + TOKEN})
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert [(row["date"], int(row["count"])) for row in rows] == expected_months
    assert {(row["uid"], row["metric"]) for row in rows} == {("dash:1", "comments")}
    assert httpx.get(href).status_code == 401

    visit(browser, service, "view=chart&uid=dash:1&metric=comments&from=2001-01-01&to=2001-01-31")
    until(browser, lambda: browser.find_elements(By.CSS_SELECTOR, ".empty"))
    assert browser.find_element(By.CSS_SELECTOR, ".empty").text == \
        "No counts in this range (days from 2001-01-01 to 2001-01-31)."


def test_compare_series_on_one_chart(browser, service, artifacts):
    visit(browser, service, "view=chart&uid=dash:1&metric=comments&group_by=week")
    points(browser)
    form = browser.find_element(By.CSS_SELECTOR, "form.add")
    form.find_element(By.NAME, "uid").clear()
    form.find_element(By.NAME, "uid").send_keys("dash:1")
    form.find_element(By.NAME, "metric").send_keys("likes", Keys.ENTER)
    until(browser, lambda: len(browser.find_elements(By.CSS_SELECTOR, ".chart polyline")) == 2)
    assert browser.current_url.endswith("#view=chart&uid=dash%3A1&uid=dash%3A1&metric=comments&metric=likes"
                                        "&group_by=week&range=12w")

    visit(browser, service, "view=chart&%s&group_by=week" % "&".join("uid=%s&metric=comments" % u for u in UIDS))
    first_week = monday(TODAY) - datetime.timedelta(weeks=11)
    weeks = [first_week + datetime.timedelta(weeks=i) for i in range(12)]
    for index, uid in enumerate(UIDS):
        assert points(browser, index) == [(w.isoformat(), week_total(uid, "comments", w)) for w in weeks]
    assert len(browser.find_elements(By.CSS_SELECTOR, ".chart polyline")) == 3
    legend = [item.text for item in browser.find_elements(By.CSS_SELECTOR, ".legend li")]
    assert [entry.split(" (total")[0] for entry in legend] == ["%s \u00b7 comments" % uid for uid in UIDS]
    assert table(browser)[5] == [weeks[5].isoformat()] + [us(week_total(uid, "comments", weeks[5])) for uid in UIDS]

    circle = browser.find_element(By.CSS_SELECTOR, ".chart circle[data-date='%s']" % weeks[7].isoformat())
    ActionChains(browser).move_to_element(circle).perform()
    tip = browser.find_element(By.CSS_SELECTOR, ".tip")
    until(browser, tip.is_displayed)
    assert tip.text.split("\n") == [weeks[7].isoformat()] + [
        "%s \u00b7 comments: %s" % (uid, us(week_total(uid, "comments", weeks[7]))) for uid in UIDS]
    screenshot(browser, artifacts, "compare.png", docs="dashboard-compare.png")

    browser.refresh()
    until(browser, lambda: len(browser.find_elements(By.CSS_SELECTOR, ".chart polyline")) == 3)


def test_a_year_of_days_on_a_phone_weight_and_time(browser, service, artifacts):
    start = TODAY - datetime.timedelta(days=364)
    visit(browser, service, "view=chart&uid=dash:3&metric=likes&group_by=day&from=%s&to=%s"
          % (start.isoformat(), TODAY.isoformat()), cold=True)
    drawn = until(browser, lambda: browser.execute_script(
        "var m = performance.getEntriesByName('chart-drawn'); return m.length ? m[0].startTime : null;"))
    assert points(browser) == [(day.isoformat(), seeded("dash:3", "likes", day)) for day in day_range(start, TODAY)]
    weight = browser.execute_script("""
        var found = {};
        performance.getEntriesByType('navigation').concat(performance.getEntriesByType('resource'))
          .forEach(function (e) { found[new URL(e.name).pathname] = e.transferSize; });
        return found;""")
    measured = {"365 days: ms from navigation to chart drawn": round(drawn),
                "bytes transferred": {path: size for path, size in weight.items() if not path.startswith("/v1/")},
                "bytes of the /v1/series answer": weight.get("/v1/series")}
    with open(os.path.join(artifacts, "measurements.json"), "w") as handle:
        json.dump(measured, handle, indent=2)
    print(json.dumps(measured))
    assert {"/", "/static/app.js", "/static/chart.js", "/static/style.css"} <= set(weight)

    # The arrow keys walk the points once the chart has the focus.
    chart = browser.find_element(By.CSS_SELECTOR, ".chart")
    browser.execute_script("arguments[0].focus()", chart)
    chart.send_keys(Keys.END)
    assert browser.find_element(By.CSS_SELECTOR, ".tip").text.split("\n") == [
        TODAY.isoformat(), us(seeded("dash:3", "likes", TODAY))]

    browser.set_window_size(390, 844)
    try:
        # The chart is drawn again for the narrower window.
        until(browser, lambda: int(browser.find_element(By.CSS_SELECTOR, ".chart").get_attribute("width")) < 390)
        assert len(points(browser)) == 365
        assert browser.execute_script("return document.documentElement.scrollWidth") <= 390
        screenshot(browser, artifacts, "phone-year.png")
    finally:
        browser.set_window_size(1280, 800)


def test_no_other_origin_and_no_console_errors(browser, service):
    visit(browser, service, "view=chart&uid=dash:1&metric=comments")
    points(browser)
    drain(browser)
    origin = service.url
    sent = [json.loads(entry["message"])["message"] for entry in LOGS["performance"]]
    requests = [(event["params"]["request"]["url"], event["params"].get("documentURL", ""))
                for event in sent if event["method"] == "Network.requestWillBeSent"]
    assert any(url.startswith(origin + "/v1/series") for url, _ in requests)
    # Nothing went over the network but to the service...
    network = [url for url, _ in requests if urlsplit(url).scheme in ("http", "https", "ws", "wss")]
    assert network and [url for url in network if "%s://%s" % urlsplit(url)[:2] != origin] == []
    # ...and the dashboard's pages asked for nothing else but the inline empty icon (data:).
    # (Chromium's own chrome:// pages, such as its first tab, are not the dashboard's.)
    mine = [url for url, document in requests if document.startswith(origin)]
    assert [url for url in mine if not url.startswith(origin + "/") and url != "data:,"] == []
    errors = [entry for entry in LOGS["browser"] if entry["level"] == "SEVERE"]
    # The wrong and the missing token of the first test are the only failed requests.
    assert all(entry["source"] == "network" and "401" in entry["message"] for entry in errors), errors
    LOGS["browser"].clear()


def test_a_stopped_redis_reads_as_a_sentence(browser, service, redis):
    redis.stop()
    try:
        visit(browser, service, "view=uid&uid=dash:1")
        until(browser, lambda: notice(browser))
        assert notice(browser).startswith("The counters cannot be read right now: Redis host redis://127.0.0.1:%d/0 "
                                          "is unavailable" % redis.port)
    finally:
        redis.start()
