// A small SVG line chart: a time axis, a value axis, one line per series, a point per
// bucket, and the values of the nearest bucket on hover (or with the arrow keys).
// It is written here rather than taken from a chart library so that the dashboard
// loads nothing but its own few kilobytes and runs under a self-only CSP.
"use strict";

const Chart = (function () {
  const SVG = "http://www.w3.org/2000/svg";

  function svg(tag, attrs) {
    const node = document.createElementNS(SVG, tag);
    for (const [name, value] of Object.entries(attrs || {})) node.setAttribute(name, value);
    return node;
  }

  // Value-axis ticks at 1, 2 or 5 times a power of ten, so the labels are round numbers.
  function ticks(max) {
    if (max <= 0) return [0, 1];
    const rough = max / 4;
    const power = Math.pow(10, Math.floor(Math.log10(rough)));
    const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= rough);
    const whole = Math.max(1, Math.round(step));
    const found = [];
    for (let value = 0; value < max + whole; value += whole) found.push(value);
    return found;
  }

  // series: [{label, color, points: [[date, count], ...]}], every series on the same dates.
  function draw(container, series) {
    container.textContent = "";
    const dates = series[0].points.map((point) => point[0]);
    const n = dates.length;
    const width = Math.max(280, container.clientWidth);
    const height = width < 500 ? 220 : 300;
    const max = Math.max(0, ...series.flatMap((s) => s.points.map((point) => point[1])));
    const yTicks = ticks(max);
    const top = yTicks[yTicks.length - 1];
    const labelWidth = 8 * top.toLocaleString().length;
    const box = { left: labelWidth + 14, right: width - 14, top: 12, bottom: height - 36 };
    const x = (i) => (n === 1 ? (box.left + box.right) / 2 : box.left + (i * (box.right - box.left)) / (n - 1));
    const y = (value) => box.bottom - (value * (box.bottom - box.top)) / top;

    const chart = svg("svg", {
      width, height, viewBox: "0 0 " + width + " " + height, class: "chart", role: "img", tabindex: "0",
      "aria-label": "Line chart of " + series.map((s) => s.label).join(", ") + ", " + n +
        " points from " + dates[0] + " to " + dates[n - 1] + "; the table below lists every number",
    });
    for (const value of yTicks) {
      chart.append(svg("line", { x1: box.left, x2: box.right, y1: y(value), y2: y(value), class: "grid" }));
      const label = svg("text", { x: box.left - 6, y: y(value) + 4, class: "axis", "text-anchor": "end" });
      label.textContent = value.toLocaleString();
      chart.append(label);
    }
    // As many date labels as fit side by side: a YYYY-MM-DD text is about 72 pixels wide.
    // The first starts at its point (centred, it would stick out on the left).
    const every = Math.max(1, Math.ceil(n / Math.max(1, Math.floor((box.right - box.left) / 96))));
    let free = 0;
    for (let i = 0; i < n; i += every) {
      const first = i === 0 && n > 1;
      const start = first ? x(i) : x(i) - 36;
      if (start < free || start + 72 > width) continue;
      free = start + 72 + 12;
      const label = svg("text", { x: x(i), y: box.bottom + 20, class: "axis",
                                  "text-anchor": first ? "start" : "middle" });
      label.textContent = dates[i];
      chart.append(label);
    }
    chart.append(svg("line", { x1: box.left, x2: box.right, y1: box.bottom, y2: box.bottom, class: "base" }));

    const radius = n > 120 ? 1.5 : n > 40 ? 2.5 : 3.5;
    series.forEach((s, index) => {
      const coords = s.points.map((point, i) => x(i).toFixed(1) + "," + y(point[1]).toFixed(1));
      chart.append(svg("polyline", { points: coords.join(" "), class: "line", stroke: s.color,
                                     "data-series": index }));
      const group = svg("g", { class: "points", fill: s.color, "data-series": index });
      s.points.forEach((point, i) => {
        group.append(svg("circle", { cx: x(i), cy: y(point[1]), r: radius, "data-date": point[0],
                                     "data-count": point[1] }));
      });
      chart.append(group);
    });

    const guide = svg("line", { y1: box.top, y2: box.bottom, class: "guide", visibility: "hidden" });
    chart.append(guide);
    // One transparent rectangle takes the pointer, so hovering anywhere picks the nearest bucket,
    // not only the few pixels of a point.
    const overlay = svg("rect", { x: box.left - 8, y: box.top, width: box.right - box.left + 16,
                                  height: box.bottom - box.top, class: "overlay" });
    chart.append(overlay);
    container.append(chart);

    const tip = document.createElement("div");
    tip.className = "tip";
    tip.hidden = true;
    tip.setAttribute("role", "status");
    container.append(tip);

    let current = -1;
    function show(i) {
      current = Math.max(0, Math.min(n - 1, i));
      guide.setAttribute("x1", x(current));
      guide.setAttribute("x2", x(current));
      guide.setAttribute("visibility", "visible");
      tip.textContent = "";
      const day = document.createElement("strong");
      day.textContent = dates[current];
      tip.append(day);
      for (const s of series) {
        const row = document.createElement("div");
        const swatch = document.createElement("span");
        swatch.className = "swatch";
        swatch.style.background = s.color;
        row.append(swatch, (series.length > 1 ? s.label + ": " : "") + s.points[current][1].toLocaleString());
        tip.append(row);
      }
      tip.hidden = false;
      const left = x(current) + 12;
      tip.style.left = (left + tip.offsetWidth > width ? x(current) - tip.offsetWidth - 12 : left) + "px";
      tip.style.top = box.top + "px";
    }
    function hide() {
      guide.setAttribute("visibility", "hidden");
      tip.hidden = true;
    }
    overlay.addEventListener("pointermove", (event) => {
      const bounds = chart.getBoundingClientRect();
      const at = event.clientX - bounds.left;
      show(n === 1 ? 0 : Math.round(((at - box.left) * (n - 1)) / (box.right - box.left)));
    });
    overlay.addEventListener("pointerleave", hide);
    chart.addEventListener("blur", hide);
    chart.addEventListener("keydown", (event) => {
      const moves = { ArrowLeft: (i) => i - 1, ArrowRight: (i) => i + 1, Home: () => 0, End: () => n - 1 };
      if (!(event.key in moves)) return;
      event.preventDefault();
      // Before any point is shown, the right arrow starts at the first and the left at the last.
      show(moves[event.key](current >= 0 ? current : event.key === "ArrowLeft" ? n : -1));
    });
    return chart;
  }

  return { draw };
})();
