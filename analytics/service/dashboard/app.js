// The dashboard: three views (uids, one uid's metrics, a chart of one or more series),
// each drawn from the URL's hash alone, so that reloading or sharing a link shows the
// same view.  Every number comes from the service's public /v1/ API.
"use strict";

(function () {
  const TOKEN_KEY = "analytics.token";
  const COLORS = ["#1f6fb4", "#d1570c", "#2a8a3e", "#a3338f", "#6b5a00", "#0f7f86"];
  const PRESETS = { "30d": "Last 30 days", "12w": "Last 12 weeks", "12m": "Last 12 months" };
  const PRESET_OF = { day: "30d", week: "12w", month: "12m" };
  const UIDS_PER_PAGE = 50;

  const view = document.getElementById("view");
  const notice = document.getElementById("notice");
  const tokenForm = document.getElementById("token-form");
  const tokenInput = document.getElementById("token");
  const forget = document.getElementById("forget");

  // -- small helpers

  function h(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
      else if (value !== false && value !== undefined) node.setAttribute(name, value === true ? "" : value);
    }
    node.append(...children.flat().filter((child) => child !== null && child !== undefined));
    return node;
  }

  const number = (value) => value.toLocaleString();

  // Dates are the browser's local calendar days, as YYYY-MM-DD (the library's form).
  function iso(date) {
    const pad = (value) => String(value).padStart(2, "0");
    return date.getFullYear() + "-" + pad(date.getMonth() + 1) + "-" + pad(date.getDate());
  }

  function today() {
    const now = new Date();
    return new Date(now.getFullYear(), now.getMonth(), now.getDate());
  }

  function presetRange(preset) {
    const end = today();
    const start = new Date(end);
    if (preset === "30d") start.setDate(start.getDate() - 29);
    else if (preset === "12w") start.setDate(start.getDate() - ((start.getDay() + 6) % 7) - 7 * 11);
    else start.setFullYear(end.getFullYear(), end.getMonth() - 11, 1);
    return { from: iso(start), to: iso(end) };
  }

  // -- the URL's hash is the state

  function state() {
    const query = new URLSearchParams(location.hash.slice(1));
    const uids = query.getAll("uid");
    const metrics = query.getAll("metric");
    return {
      view: query.get("view") || "uids",
      prefix: query.get("prefix") || "",
      uid: uids[0] || "",
      pairs: uids.slice(0, metrics.length).map((uid, i) => [uid, metrics[i]]),
      groupBy: ["day", "week", "month"].includes(query.get("group_by")) ? query.get("group_by") : "day",
      range: query.get("range"),
      from: query.get("from"),
      to: query.get("to"),
    };
  }

  function link(fields) {
    const query = new URLSearchParams();
    for (const [name, value] of Object.entries(fields)) {
      if (Array.isArray(value)) value.forEach((item) => query.append(name, item));
      else if (value !== undefined && value !== null && value !== "") query.set(name, value);
    }
    return "#" + query.toString();
  }

  function chartLink(pairs, groupBy, range) {
    return link({ view: "chart", uid: pairs.map((pair) => pair[0]), metric: pairs.map((pair) => pair[1]),
                  group_by: groupBy, range: range.preset, from: range.preset ? null : range.from,
                  to: range.preset ? null : range.to });
  }

  // -- the API

  class ApiError extends Error {
    constructor(status, text) {
      super(text);
      this.status = status;
    }
  }

  // The service's own message, put in a sentence that says what it means for the reader.
  function explain(status, body) {
    const said = body && body.error && body.error.message ? body.error.message : "";
    const ask = "Give a token with the read scope.";
    if (status === 401 && said.startsWith("send a token")) return "This service needs a token. " + ask;
    if (status === 401) return "The service did not accept this token (" + said + "). " + ask;
    if (status === 403) return "This token may not read the counters: " + said + ".";
    if (status === 503) return "The counters cannot be read right now: " + said + ".";
    if (status === 400) return "The service refused this request: " + said + ".";
    return "The service answered HTTP " + status + (said ? ": " + said : "") + ".";
  }

  async function api(path, body) {
    const headers = {};
    const token = sessionStorage.getItem(TOKEN_KEY);
    if (token) headers.Authorization = "Bearer " + token;
    const init = { headers };
    if (body !== undefined) {
      init.method = "POST";
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let answer;
    try {
      answer = await fetch(path, init);
    } catch (error) {
      throw new ApiError(0, "The service cannot be reached (" + error.message + ").");
    }
    const data = await answer.json().catch(() => null);
    if (!answer.ok) throw new ApiError(answer.status, explain(answer.status, data));
    return data;
  }

  function series(pairs, range, groupBy) {
    return api("/v1/series", { pairs, from: range.from, to: range.to, group_by: groupBy });
  }

  // The API's GET URL of one series, the same numbers as a file.
  function exportUrl(pair, range, groupBy, format) {
    const query = new URLSearchParams({ uid: pair[0], metric: pair[1], group_by: groupBy, from: range.from,
                                        to: range.to, format });
    return "/v1/series?" + query.toString();
  }

  // A plain link cannot carry the bearer token, so a click fetches the file with it and
  // hands it to the browser as a download; the href stays the API's URL, to copy.
  async function download(event) {
    event.preventDefault();
    const anchor = event.currentTarget;
    const headers = {};
    const token = sessionStorage.getItem(TOKEN_KEY);
    if (token) headers.Authorization = "Bearer " + token;
    try {
      const answer = await fetch(anchor.getAttribute("href"), { headers });
      if (!answer.ok) throw new ApiError(answer.status, explain(answer.status, await answer.json().catch(() => null)));
      const file = URL.createObjectURL(await answer.blob());
      const save = h("a", { href: file, download: anchor.dataset.filename });
      document.body.append(save);
      save.click();
      save.remove();
      setTimeout(() => URL.revokeObjectURL(file), 10000);
    } catch (error) {
      fail(error);
    }
  }

  // -- notices and the token

  function say(text, kind) {
    notice.textContent = text;
    notice.className = kind || "";
    notice.hidden = !text;
  }

  function fail(error) {
    if (error.status === 401) {
      sessionStorage.removeItem(TOKEN_KEY);
      showToken(true);
    }
    say(error instanceof ApiError ? error.message : "Something went wrong: " + error.message, "error");
  }

  function showToken(asking) {
    tokenForm.hidden = !asking;
    forget.hidden = asking || !sessionStorage.getItem(TOKEN_KEY);
    if (asking) tokenInput.focus();
  }

  tokenForm.addEventListener("submit", (event) => {
    event.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, tokenInput.value.trim());
    tokenInput.value = "";
    render();
  });

  forget.addEventListener("click", () => {
    sessionStorage.removeItem(TOKEN_KEY);
    view.textContent = "";
    say("The token is forgotten; give one to read the counters.");
    showToken(true);
  });

  // -- the views

  async function uidsView(current) {
    const results = h("ul", { class: "uids" });
    const more = h("button", { type: "button", hidden: true }, "More uids");
    const form = h("form", { class: "search", role: "search" },
      h("label", { for: "prefix" }, "Uids starting with"),
      h("input", { id: "prefix", name: "prefix", value: current.prefix, autocomplete: "off" }),
      h("button", { type: "submit" }, "Find"));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      location.hash = link({ view: "uids", prefix: form.elements.prefix.value });
    });
    const status = h("p", { class: "quiet" });
    const page = [h("h1", {}, "Uids"), form, status, results, more];
    const seen = new Set();
    let cursor = "0";

    // SCAN pages may be short or empty before the walk ends: read on until a screenful is found.
    async function fill() {
      let found = 0;
      do {
        const answer = await api("/v1/uids?" + new URLSearchParams({ prefix: current.prefix, cursor, count: 500 }));
        cursor = answer.cursor;
        for (const uid of answer.uids) {
          if (seen.has(uid)) continue;
          seen.add(uid);
          found += 1;
          results.append(h("li", {}, h("a", { href: link({ view: "uid", uid }) }, uid)));
        }
      } while (cursor !== "0" && found < UIDS_PER_PAGE);
      more.hidden = cursor === "0";
      status.textContent = seen.size ? seen.size.toLocaleString() + (cursor === "0" ? " uids" : " uids so far")
        : current.prefix ? "No stored uid starts with \u201c" + current.prefix + "\u201d."
          : "No counters are stored yet.";
    }
    more.addEventListener("click", () => fill().catch(fail));
    await fill();
    return page;
  }

  async function uidView(current) {
    const uid = current.uid;
    const { metrics } = await api("/v1/metrics?" + new URLSearchParams({ uid }));
    const heading = [h("p", { class: "crumbs" }, h("a", { href: link({ view: "uids" }) }, "Uids")),
                     h("h1", {}, uid)];
    if (!metrics.length) return heading.concat(h("p", {}, "No metrics are stored for " + uid + "."));
    const pairs = metrics.map((metric) => [uid, metric]);
    const day = iso(today());
    const [days, weeks, months, counts] = await Promise.all([
      ...["day", "week", "month"].map((groupBy) =>
        api("/v1/series", { pairs, from: day, limit: 1, group_by: groupBy })),
      api("/v1/counts", { pairs }),
    ]);
    const boxes = metrics.map((metric) => h("input", { type: "checkbox", value: metric,
                                                        "aria-label": "Compare " + metric }));
    const rows = metrics.map((metric, i) => h("tr", {},
      h("td", {}, boxes[i]),
      h("th", { scope: "row" }, h("a", { href: chartLink([[uid, metric]], "day", { preset: "30d" }) },
                                  metric)),
      ...[days, weeks, months].map((answer) => h("td", { class: "num" }, number(answer.series[i].total))),
      h("td", { class: "num" }, number(counts.counts[i].count))));
    const compare = h("button", { type: "button" }, "Compare the checked metrics");
    compare.addEventListener("click", () => {
      const checked = boxes.filter((box) => box.checked).map((box) => [uid, box.value]);
      if (checked.length) location.hash = chartLink(checked, "day", { preset: "30d" });
      else say("Check the metrics to put on one chart first.");
    });
    return heading.concat(
      h("div", { class: "scroll" }, h("table", { class: "totals" },
        h("caption", {}, "Totals for today (" + day + "), this week, this month and all time"),
        h("thead", {}, h("tr", {}, h("td"), h("th", { scope: "col" }, "Metric"),
          ...["Today", "This week", "This month", "All time"].map((name) =>
            h("th", { scope: "col", class: "num" }, name)))),
        h("tbody", {}, rows))),
      compare);
  }

  function chosenRange(current) {
    if (current.from && current.to && !current.range) return { preset: null, from: current.from, to: current.to };
    const preset = PRESETS[current.range] ? current.range : PRESET_OF[current.groupBy];
    return { preset, ...presetRange(preset) };
  }

  async function chartView(current) {
    const pairs = current.pairs;
    if (!pairs.length) return [h("p", {}, "This link names no series: give uid and metric in the URL.")];
    const groupBy = current.groupBy;
    const range = chosenRange(current);
    const answer = await series(pairs, range, groupBy);
    const labelled = answer.series.map((found, i) => ({
      label: found.uid + " \u00b7 " + found.metric, color: COLORS[i % COLORS.length],
      points: found.points, total: found.total, pair: pairs[i],
    }));
    const single = pairs.length === 1;

    const tabs = h("div", { class: "tabs", role: "group", "aria-label": "Group by" },
      ["day", "week", "month"].map((name) => h("button", {
        type: "button", "aria-pressed": String(name === groupBy), "data-group": name,
        onclick: () => { location.hash = chartLink(pairs, name, range.preset ? { preset: PRESET_OF[name] } : range); },
      }, name)));
    const presets = h("div", { class: "tabs", role: "group", "aria-label": "Range" },
      Object.entries(PRESETS).map(([preset, label]) => h("button", {
        type: "button", "aria-pressed": String(preset === range.preset), "data-range": preset,
        onclick: () => { location.hash = chartLink(pairs, groupBy, { preset }); },
      }, label)));
    const custom = h("form", { class: "custom" },
      h("label", {}, "From ", dateInput("from", range.from)),
      h("label", {}, "to ", dateInput("to", range.to)),
      h("button", { type: "submit" }, "Show"));
    custom.addEventListener("submit", (event) => {
      event.preventDefault();
      location.hash = chartLink(pairs, groupBy, { preset: null, from: custom.elements.from.value,
                                                   to: custom.elements.to.value });
    });

    const legend = h("ul", { class: "legend" }, labelled.map((s, i) => h("li", {},
      h("span", { class: "swatch", "data-color": s.color }),
      h("a", { href: link({ view: "uid", uid: s.pair[0] }) }, s.pair[0]), " \u00b7 " + s.pair[1],
      " (total " + number(s.total) + ") ",
      h("a", { href: exportUrl(s.pair, range, groupBy, "csv"), class: "export", "data-filename":
               s.pair.join("-") + ".csv", onclick: download }, "CSV"), " ",
      h("a", { href: exportUrl(s.pair, range, groupBy, "json"), class: "export", "data-filename":
               s.pair.join("-") + ".json", onclick: download }, "JSON"),
      single ? null : h("button", { type: "button", class: "remove", "aria-label": "Remove " + s.label,
        onclick: () => { location.hash = chartLink(pairs.filter((_, j) => j !== i), groupBy, range); } }, "\u00d7"))));
    for (const swatch of legend.querySelectorAll(".swatch")) swatch.style.background = swatch.dataset.color;

    const add = h("form", { class: "add" },
      h("label", {}, "Uid ", h("input", { name: "uid", value: pairs[pairs.length - 1][0], required: true })),
      h("label", {}, "Metric ", h("input", { name: "metric", required: true })),
      h("button", { type: "submit" }, "Add to the chart"));
    add.addEventListener("submit", (event) => {
      event.preventDefault();
      location.hash = chartLink(pairs.concat([[add.elements.uid.value, add.elements.metric.value]]), groupBy, range);
    });

    const title = single ? pairs[0][0] + " \u00b7 " + pairs[0][1] : "Comparing " + pairs.length + " series";
    const page = [
      h("p", { class: "crumbs" }, h("a", { href: link({ view: "uids" }) }, "Uids"),
        single ? [" / ", h("a", { href: link({ view: "uid", uid: pairs[0][0] }) }, pairs[0][0])] : null),
      h("h1", {}, title),
      h("div", { class: "controls" }, tabs, presets, custom),
      legend,
    ];
    const first = labelled[0].points;
    const span = first.length ? first[0][0] + " to " + first[first.length - 1][0] : range.from + " to " + range.to;
    if (labelled.every((s) => s.total === 0)) {
      page.push(h("p", { class: "empty" }, "No counts in this range (" + groupBy + "s from " + span + ")."));
    } else {
      const chart = h("div", { class: "chart-box" });
      page.push(chart, tableOf(labelled, groupBy, span));
      // Drawn once the box is in the page, so it is as wide as the screen allows.
      requestAnimationFrame(() => {
        Chart.draw(chart, labelled);
        performance.mark("chart-drawn");
      });
      drawn = { box: chart, series: labelled };
    }
    page.push(add);
    return page;
  }

  // A text field rather than type=date, whose picker shows the browser's locale format:
  // the dashboard writes every date as the library does.
  function dateInput(name, value) {
    return h("input", { name, value, required: true, pattern: "\\d{4}-\\d{2}-\\d{2}", placeholder: "YYYY-MM-DD",
                        size: 10, inputmode: "numeric", title: "a date as YYYY-MM-DD" });
  }

  function tableOf(labelled, groupBy, span) {
    return h("div", { class: "scroll" }, h("table", { class: "numbers" },
      h("caption", {}, "Counts per " + groupBy + ", " + span),
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, { day: "Day", week: "Week of", month: "Month" }[groupBy]),
        labelled.map((s) => h("th", { scope: "col", class: "num" }, s.label)))),
      h("tbody", {}, labelled[0].points.map((point, i) => h("tr", {},
        h("th", { scope: "row" }, point[0]),
        labelled.map((s) => h("td", { class: "num" }, number(s.points[i][1]))))))));
  }

  // -- drawing the view the hash names

  // A chart is drawn for its box's width: when the window's width changes, it is drawn again.
  let drawn = null;
  let resizing = 0;
  window.addEventListener("resize", () => {
    clearTimeout(resizing);
    resizing = setTimeout(() => {
      if (drawn && document.contains(drawn.box)) Chart.draw(drawn.box, drawn.series);
    }, 150);
  });

  const VIEWS = { uids: uidsView, uid: uidView, chart: chartView };
  let drawing = 0;

  async function render() {
    const current = state();
    const mine = ++drawing;
    showToken(false);
    say("");
    view.setAttribute("aria-busy", "true");
    try {
      const nodes = await (VIEWS[current.view] || uidsView)(current);
      // A later navigation won the race: its view is the one to keep.
      if (mine !== drawing) return;
      view.textContent = "";
      view.append(...nodes);
    } catch (error) {
      if (mine !== drawing) return;
      view.textContent = "";
      fail(error);
    } finally {
      view.removeAttribute("aria-busy");
    }
  }

  // A link may carry the token once (`analytics serve --demo` prints one): keep it for
  // the session and take it out of the address bar.
  const given = new URLSearchParams(location.hash.slice(1)).get("token");
  if (given) {
    sessionStorage.setItem(TOKEN_KEY, given);
    const rest = new URLSearchParams(location.hash.slice(1));
    rest.delete("token");
    history.replaceState(null, "", location.pathname + location.search + (rest.toString() ? "#" + rest : ""));
  }
  window.addEventListener("hashchange", render);
  render();
})();
