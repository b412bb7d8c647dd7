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
 * data-phases (record.chart_phases: [{"phase": "infusing", "label": "Infusing", "from": ISO, "to": ISO|null}])
 * shades the infusion's phases behind the lines. Times on the axis and in the legend are the clinic's
 * 24-hour clock; the legend under the plot shows the values under the cursor (the newest otherwise).
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
  // data-height="fill": as tall as the chart's card leaves room for (the card's height comes from the page's
  // fixed layout, never from the chart, so this cannot grow either); data-height-min is the floor.
  const FILL = root.dataset.height === "fill";
  const FIXED_HEIGHT = Number(root.dataset.height) || 300;
  const MIN_HEIGHT = Number(root.dataset.heightMin) || 160;
  const card = FILL ? root.parentElement : null;

  function plotHeight() {
    if (!FILL || !card) {
      return FIXED_HEIGHT;
    }
    const legend = root.querySelector(".u-legend");
    const legendHeight = legend ? legend.offsetHeight : 56;
    const above = root.getBoundingClientRect().top - card.getBoundingClientRect().top;
    const padding = parseFloat(getComputedStyle(card).paddingBottom) || 0;
    return Math.max(MIN_HEIGHT, Math.floor(card.clientHeight - above - legendHeight - padding - 4));
  }

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
  const phases = parse(root.dataset.phases || "[]", []);
  const readings = [];
  let newestId = 0;
  const zone = root.dataset.timeZone || undefined;
  const clock = new Intl.DateTimeFormat("en-GB", { hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone: zone });
  const clockSeconds = new Intl.DateTimeFormat("en-GB", {
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
    hourCycle: "h23",
    timeZone: zone,
  });

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
    { band: "systolic_pause", scale: "left", above: true, label: "SBP pause" },
    { band: "spo2_stop", scale: "right", above: false, label: "SpO\u2082 stop" },
  ];
  const LINES = [
    { band: "systolic_warn", scale: "left", colour: "--chart-warn", label: "SBP warn" },
    { band: "diastolic_pause", scale: "left", colour: "--chart-danger", label: "DBP pause" },
    { band: "heart_rate_warn", scale: "left", colour: "--chart-warn", label: "HR warn" },
    { band: "heart_rate_pause", scale: "left", colour: "--chart-danger", label: "HR pause" },
    { band: "heart_rate_low", scale: "left", colour: "--chart-warn", label: "HR low" },
    { band: "spo2_warn", scale: "right", colour: "--chart-warn", label: "SpO\u2082 warn" },
  ];

  // The infusion's phases, shaded behind everything, each labelled at the top of its span.
  function drawPhases(u) {
    const ctx = u.ctx;
    const top = u.bbox.top;
    const height = u.bbox.height;
    const left = u.bbox.left;
    const right = u.bbox.left + u.bbox.width;
    ctx.save();
    ctx.font = `${11 * devicePixelRatio}px system-ui, sans-serif`;
    ctx.textBaseline = "top";
    for (const phase of phases) {
      const from = Date.parse(phase.from) / 1000;
      const to = phase.to ? Date.parse(phase.to) / 1000 : Date.now() / 1000;
      const x0 = Math.max(u.valToPos(from, "x", true), left);
      const x1 = Math.min(u.valToPos(to, "x", true), right);
      if (!(x1 > x0)) {
        continue;
      }
      ctx.fillStyle = colour(`--chart-phase-${phase.phase}`) || "rgba(0,0,0,.04)";
      ctx.fillRect(x0, top, x1 - x0, height);
      if (x1 - x0 > 60 * devicePixelRatio) {
        ctx.fillStyle = colour("--chart-axis");
        ctx.fillText(phase.label, x0 + 4 * devicePixelRatio, top + 3 * devicePixelRatio);
      }
    }
    ctx.restore();
  }

  // Threshold labels are collected while the bands are drawn (under the series) and drawn last, over
  // everything, each on a backing of the card's colour so no line runs through its text; a label that would
  // overlap one already placed (on either side of the plot) moves down a line, or up when out of room.
  let pendingLabels = [];

  function bandLabel(ctx, text, x, y, tint) {
    pendingLabels.push({ text, x, y, tint });
  }

  function drawBandLabels(u) {
    const ctx = u.ctx;
    const dpr = devicePixelRatio;
    const lineHeight = 13 * dpr;
    const pad = 3 * dpr;
    const top = u.bbox.top;
    const bottom = u.bbox.top + u.bbox.height;
    const placed = [];
    ctx.save();
    ctx.font = `${11 * dpr}px system-ui, sans-serif`;
    ctx.textAlign = "right";
    const clash = (box) =>
      placed.some((other) => box.left < other.right && box.right > other.left && box.top < other.bottom && box.bottom > other.top);
    const boxAt = (right, width, baseline) => ({
      left: right - width - pad,
      right: right + pad,
      top: baseline - 10 * dpr - pad / 2,
      bottom: baseline + 3 * dpr + pad / 2,
    });
    for (const label of pendingLabels.sort((a, b) => a.y - b.y)) {
      const right = label.x - 4 * dpr;
      const width = ctx.measureText(label.text).width;
      let baseline = Math.max(label.y - 3 * dpr, top + 11 * dpr);
      let box = boxAt(right, width, baseline);
      for (let step = 1; clash(box) && step < 16; step += 1) {
        // Alternate below and above the line, moving further each time, staying inside the plot.
        const offset = Math.ceil(step / 2) * lineHeight * (step % 2 ? 1 : -1);
        const candidate = Math.min(Math.max(label.y - 3 * dpr + offset, top + 11 * dpr), bottom - 2 * dpr);
        box = boxAt(right, width, candidate);
        baseline = candidate;
      }
      if (clash(box)) {
        // A plot too short for every label: leave this one out rather than print it over another (its
        // line keeps its colour, and the legend and alerts carry the values).
        continue;
      }
      placed.push(box);
      ctx.globalAlpha = 0.88;
      ctx.fillStyle = colour("--surface") || "#ffffff";
      ctx.fillRect(box.left, box.top, box.right - box.left, box.bottom - box.top);
      ctx.globalAlpha = 1;
      ctx.fillStyle = label.tint;
      ctx.fillText(label.text, right, baseline);
    }
    ctx.restore();
    pendingLabels = [];
  }

  function drawBands(u) {
    pendingLabels = [];
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
    ctx.font = `${11 * devicePixelRatio}px system-ui, sans-serif`;
    for (const shade of SHADES) {
      if (typeof bands[shade.band] !== "number") {
        continue;
      }
      const y = u.valToPos(bands[shade.band], shade.scale, true);
      if (y >= top && y <= bottom) {
        bandLabel(ctx, `${shade.label} ${bands[shade.band]}`, left + width, shade.above ? y : y + 14 * devicePixelRatio, colour("--chart-danger"));
        ctx.fillStyle = colour("--chart-danger-band");
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
      const labelX = line.scale === "right" ? left + width : left + 110 * devicePixelRatio;
      bandLabel(ctx, `${line.label} ${bands[line.band]}`, labelX, y, colour(line.colour));
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
    height: plotHeight(),
    // Times on the axis in the clinic's zone (data-time-zone), as the rest of the page shows them.
    tzDate: root.dataset.timeZone ? (ts) => uPlot.tzDate(new Date(ts * 1000), root.dataset.timeZone) : undefined,
    scales: {
      // One reading alone would stretch the time axis over years: show five minutes either side of it.
      x: { time: true, range: (u, min, max) => (min === max ? [min - 300, max + 300] : [min, max]) },
      left: { range: leftRange },
      right: { range: rightRange },
    },
    legend: { live: true },
    axes: [
      {
        stroke: colour("--chart-axis"),
        // Minutes alone would repeat one label across a short span: seconds too when it is under 10 min.
        values: (u, splits) => {
          const short = splits.length > 1 && splits[splits.length - 1] - splits[0] < 600;
          return splits.map((ts) => (short ? clockSeconds : clock).format(new Date(ts * 1000)));
        },
      },
      { scale: "left", label: "mmHg · /min", stroke: colour("--chart-axis") },
      { scale: "right", side: 1, label: "SpO\u2082 %", stroke: colour("--chart-axis"), grid: { show: false } },
    ],
    series: [
      { label: "Time", value: (u, ts) => (ts === null || ts === undefined ? "\u2013" : clockSeconds.format(new Date(ts * 1000))) },
      ...FIELDS.map((field) => ({
        label: field.label,
        scale: field.scale,
        stroke: colour(field.colour),
        width: 2,
        points: { show: true, size: 5 },
        spanGaps: true,
      })),
    ],
    hooks: { drawClear: [drawPhases, drawBands], draw: [drawArtefacts, drawBandLabels] },
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

  const resize = () => chart.setSize({ width: Math.max(root.clientWidth, 320), height: plotHeight() });
  new ResizeObserver(resize).observe(card || root);
  // The legend exists only once the chart is drawn: size again now that it can be measured.
  resize();

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
