/* The chair page's live vitals chart (uPlot), fed by the visit's event stream.
 *
 * Markup (the chair page renders it; no inline script or style, the CSP forbids both):
 *   <div id="vitals-chart" data-stream-url="/infusions/visits/7/stream/"
 *        data-bands='{"systolic_pause":180,...}' data-initial='[{"id":1,"at":"...",...}]'></div>
 * data-bands holds the protocol's thresholds the visit runs under (record.chart_payload); nothing clinical
 * is written here. `withdrawn` events remove readings withdrawn as entered in error. Colours come from
 * CSS custom properties (--chart-*) in app.css.
 * data-time-zone (an IANA name, e.g. "America/New_York") puts the time axis in the clinic's zone.
 * With `sse-swap="vitals" hx-swap="none"` inside an htmx `sse-connect` element the chart listens to that
 * connection (htmx:sseMessage); otherwise it opens its own EventSource.
 */
(function () {
  "use strict";

  const root = document.getElementById("vitals-chart");
  if (!root || typeof window.uPlot === "undefined") {
    return;
  }
  const uPlot = window.uPlot;
  const style = getComputedStyle(root);
  const colour = (name) => style.getPropertyValue(name).trim();
  const MAX_READINGS = 5000;
  // The plot's height is fixed (data-height, in CSS pixels): sizing it from the container would grow the
  // container with the legend below the plot, and the plot with the container, for ever.
  const HEIGHT = Number(root.dataset.height) || 300;

  const parse = (text, fallback) => {
    try {
      return JSON.parse(text);
    } catch (error) {
      return fallback;
    }
  };
  // data-initial is the readings list, or record.chart_payload's {"readings": [...], "bands": {...}}.
  const initial = parse(root.dataset.initial || "[]", []);
  const initialReadings = Array.isArray(initial) ? initial : initial.readings || [];
  const bands = parse(root.dataset.bands || "null", null) || (Array.isArray(initial) ? {} : initial.bands || {});
  const readings = [];
  let newestId = 0;

  // Which chart series each reading field feeds, and the scale its artefact marker is drawn on.
  const FIELDS = [
    { key: "systolic", implausible: "systolic_mmhg", label: "Systolic (mmHg)", scale: "left", colour: "--chart-systolic" },
    { key: "diastolic", implausible: "diastolic_mmhg", label: "Diastolic (mmHg)", scale: "left", colour: "--chart-diastolic" },
    { key: "heart_rate", implausible: "heart_rate_bpm", label: "Heart rate (/min)", scale: "left", colour: "--chart-heart-rate" },
    { key: "spo2", implausible: "spo2_percent", label: "SpO\u2082 (%)", scale: "right", colour: "--chart-spo2" },
  ];

  // `implausible` lists the reading's fields judged artefacts (an object keyed by field is accepted too).
  function isArtefact(reading, field) {
    const implausible = reading.implausible || [];
    if (Array.isArray(implausible)) {
      return implausible.includes(field.implausible);
    }
    return Object.prototype.hasOwnProperty.call(implausible, field.implausible);
  }

  function chartData() {
    const xs = readings.map((reading) => Date.parse(reading.at) / 1000);
    const series = FIELDS.map((field) =>
      readings.map((reading) => (isArtefact(reading, field) ? null : reading[field.key])),
    );
    return [xs, ...series];
  }

  // Artefacts are left off the lines and drawn as crosses where the value would have been.
  function drawArtefacts(u) {
    const ctx = u.ctx;
    const size = 5 * devicePixelRatio;
    ctx.save();
    ctx.lineWidth = 2 * devicePixelRatio;
    ctx.strokeStyle = colour("--chart-artefact");
    for (const reading of readings) {
      for (const field of FIELDS) {
        const value = reading[field.key];
        if (value === null || value === undefined || !isArtefact(reading, field)) {
          continue;
        }
        const x = u.valToPos(Date.parse(reading.at) / 1000, "x", true);
        const y = u.valToPos(value, field.scale, true);
        ctx.beginPath();
        ctx.moveTo(x - size, y - size);
        ctx.lineTo(x + size, y + size);
        ctx.moveTo(x + size, y - size);
        ctx.lineTo(x - size, y + size);
        ctx.stroke();
      }
    }
    ctx.restore();
  }

  // Threshold bands: a shaded area beyond each pause/stop threshold, a dashed line at each warning.
  const SHADES = [
    { band: "systolic_pause", scale: "left", above: true },
    { band: "spo2_stop", scale: "right", above: false },
  ];
  const LINES = [
    { band: "systolic_warn", scale: "left", colour: "--chart-warn" },
    { band: "diastolic_pause", scale: "left", colour: "--chart-danger" },
    { band: "heart_rate_warn", scale: "left", colour: "--chart-warn" },
    { band: "heart_rate_pause", scale: "left", colour: "--chart-danger" },
    { band: "heart_rate_low", scale: "left", colour: "--chart-warn" },
    { band: "spo2_warn", scale: "right", colour: "--chart-warn" },
  ];

  function drawBands(u) {
    const ctx = u.ctx;
    const left = u.bbox.left;
    const width = u.bbox.width;
    const top = u.bbox.top;
    const bottom = u.bbox.top + u.bbox.height;
    ctx.save();
    ctx.fillStyle = colour("--chart-danger-band");
    for (const shade of SHADES) {
      if (typeof bands[shade.band] !== "number") {
        continue;
      }
      const y = Math.min(Math.max(u.valToPos(bands[shade.band], shade.scale, true), top), bottom);
      if (shade.above) {
        ctx.fillRect(left, top, width, y - top);
      } else {
        ctx.fillRect(left, y, width, bottom - y);
      }
    }
    ctx.lineWidth = 1.5 * devicePixelRatio;
    ctx.setLineDash([6 * devicePixelRatio, 4 * devicePixelRatio]);
    for (const line of LINES) {
      if (typeof bands[line.band] !== "number") {
        continue;
      }
      const y = u.valToPos(bands[line.band], line.scale, true);
      if (y < top || y > bottom) {
        continue;
      }
      ctx.strokeStyle = colour(line.colour);
      ctx.beginPath();
      ctx.moveTo(left, y);
      ctx.lineTo(left + width, y);
      ctx.stroke();
    }
    ctx.restore();
  }

  function leftRange(u, min, max) {
    const ceiling = Math.max(max || 0, bands.systolic_pause || 0) + 10;
    return [Math.min(min === null ? 40 : min, 40), ceiling];
  }

  function rightRange(u, min) {
    const floor = Math.min(min === null ? 100 : min, bands.spo2_stop || 100) - 4;
    return [Math.max(0, floor), 100];
  }

  const options = {
    width: Math.max(root.clientWidth, 320),
    height: HEIGHT,
    // Times on the axis in the clinic's zone (data-time-zone), as the rest of the page shows them.
    tzDate: root.dataset.timeZone ? (ts) => uPlot.tzDate(new Date(ts * 1000), root.dataset.timeZone) : undefined,
    scales: {
      // One reading alone would stretch the time axis over years: show five minutes either side of it.
      x: { time: true, range: (u, min, max) => (min === max ? [min - 300, max + 300] : [min, max]) },
      left: { range: leftRange },
      right: { range: rightRange },
    },
    axes: [
      { stroke: colour("--chart-axis") },
      { scale: "left", label: "mmHg · /min", stroke: colour("--chart-axis") },
      { scale: "right", side: 1, label: "SpO\u2082 %", stroke: colour("--chart-axis"), grid: { show: false } },
    ],
    series: [
      { label: "Time" },
      ...FIELDS.map((field) => ({
        label: field.label,
        scale: field.scale,
        stroke: colour(field.colour),
        width: 2,
        points: { show: true, size: 5 },
        spanGaps: true,
      })),
    ],
    hooks: { drawClear: [drawBands], draw: [drawArtefacts] },
  };

  function add(incoming) {
    let added = false;
    for (const reading of incoming) {
      // A reconnect through htmx starts without Last-Event-ID and may resend: keep each reading once.
      if (typeof reading.id !== "number" || reading.id <= newestId) {
        continue;
      }
      newestId = reading.id;
      readings.push(reading);
      added = true;
    }
    if (!added) {
      return;
    }
    // A reading entered late (measured earlier) belongs in time order, not arrival order.
    readings.sort((a, b) => Date.parse(a.at) - Date.parse(b.at) || a.id - b.id);
    if (readings.length > MAX_READINGS) {
      readings.splice(0, readings.length - MAX_READINGS);
    }
    chart.setData(chartData());
  }

  if (!root.hasAttribute("role")) {
    root.setAttribute("role", "img");
    root.setAttribute("aria-label", "Chart of blood pressure, heart rate and SpO\u2082 over time; the latest values are listed beside it.");
  }
  const chart = new uPlot(options, [[], [], [], [], []], root);
  add(initialReadings);

  new ResizeObserver(() => {
    chart.setSize({ width: Math.max(root.clientWidth, 320), height: HEIGHT });
  }).observe(root);

  function withdraw(ids) {
    const gone = new Set(ids);
    const kept = readings.filter((reading) => !gone.has(reading.id));
    if (kept.length !== readings.length) {
      readings.splice(0, readings.length, ...kept);
      chart.setData(chartData());
    }
  }

  const onVitals = (data) => add(parse(data, []));
  const onWithdrawn = (data) => withdraw(parse(data, []));
  if (root.hasAttribute("sse-swap")) {
    // Inside an htmx sse-connect element: list both events in sse-swap ("vitals,withdrawn").
    root.addEventListener("htmx:sseMessage", (event) => {
      if (event.detail && event.detail.type === "vitals") {
        onVitals(event.detail.data);
      } else if (event.detail && event.detail.type === "withdrawn") {
        onWithdrawn(event.detail.data);
      }
    });
  } else if (root.dataset.streamUrl) {
    const url = new URL(root.dataset.streamUrl, window.location.href);
    if (newestId) {
      url.searchParams.set("last_event_id", String(newestId));
    }
    // A reconnecting EventSource sends Last-Event-ID itself, so nothing already drawn is sent again.
    const source = new EventSource(url, { withCredentials: true });
    source.addEventListener("vitals", (event) => onVitals(event.data));
    source.addEventListener("withdrawn", (event) => onWithdrawn(event.data));
    root.addEventListener("vitals-chart:close", () => source.close());
  }
})();
