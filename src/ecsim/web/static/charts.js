// Small canvas charts over the hub's series (one point per simulated stats period).

import { statusColour } from "./flow.js";

const ORDER = ["2", "500", "502", "503", "504", "000"];

function setup(canvas) {
  const dpr = window.devicePixelRatio || 1;
  const w = canvas.clientWidth || 300, h = canvas.clientHeight || 90;
  if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
    canvas.width = Math.round(w * dpr); canvas.height = Math.round(h * dpr);
  }
  const ctx = canvas.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, w, h);
  return { ctx, w, h };
}

function group(code) {
  if (code[0] === "2") return "2";
  return ORDER.includes(code) ? code : "000";
}

function axis(ctx, w, h, pad, maxLabel, minLabel) {
  ctx.fillStyle = "#5f6b7a"; ctx.font = "10px system-ui, sans-serif";
  ctx.textBaseline = "top"; ctx.fillText(maxLabel, 3, 2);
  ctx.textBaseline = "bottom"; ctx.fillText(minLabel, 3, h - 2);
  ctx.strokeStyle = "#e3e7ec"; ctx.lineWidth = 1;
  ctx.beginPath(); ctx.moveTo(pad, h - 0.5); ctx.lineTo(w, h - 0.5); ctx.stroke();
}

function niceMax(v) {
  if (v <= 1) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

export function drawCharts(canvases, series, windowSeconds) {
  const last = series.length ? series[series.length - 1].t : 0;
  const from = last - windowSeconds;
  const pts = series.filter((p) => p.t > from);
  const x = (t, w, pad) => pad + ((t - from) / windowSeconds) * (w - pad);
  rps(canvases.rps, pts, x);
  latency(canvases.lat, pts, x);
  counts(canvases.count, pts, x);
}

function rps(canvas, pts, x) {
  const { ctx, w, h } = setup(canvas);
  const pad = 34;
  const stacks = pts.map((p) => {
    const s = {};
    for (const [code, n] of Object.entries(p.s || {})) s[group(code)] = (s[group(code)] || 0) + n;
    return s;
  });
  const max = niceMax(Math.max(1, ...stacks.map((s) => Object.values(s).reduce((a, b) => a + b, 0))));
  axis(ctx, w, h, pad, `${max}/s`, "0");
  if (!pts.length) return;
  const y = (v) => h - 1 - (v / max) * (h - 4);
  const bw = Math.max(1, (w - pad) / Math.max(pts.length, 1));
  pts.forEach((p, i) => {
    let base = 0;
    const px = x(p.t, w, pad) - bw;
    for (const code of ORDER) {
      const n = stacks[i][code] || 0;
      if (!n) continue;
      ctx.fillStyle = statusColour(code === "2" ? "200" : code);
      ctx.fillRect(px, y(base + n), Math.ceil(bw), y(base) - y(base + n));
      base += n;
    }
  });
}

function latency(canvas, pts, x) {
  const { ctx, w, h } = setup(canvas);
  const pad = 34;
  const lo = 1, hi = 100000; // 1 ms .. 100 s, log scale
  const y = (v) => h - 2 - ((Math.log10(Math.max(lo, v)) - 0) / Math.log10(hi / lo)) * (h - 6);
  axis(ctx, w, h, pad, "100 s", "1 ms");
  ctx.strokeStyle = "#eef0f3";
  for (const v of [10, 100, 1000, 10000]) { ctx.beginPath(); ctx.moveTo(pad, y(v)); ctx.lineTo(w, y(v)); ctx.stroke(); }
  ctx.fillStyle = "#8d99a8"; ctx.textBaseline = "middle";
  ctx.fillText("100ms", 2, y(100)); ctx.fillText("10 s", 2, y(10000));
  for (const [key, colour] of [["p50", "#0972d3"], ["p99", "#b0084d"]]) {
    ctx.strokeStyle = colour; ctx.lineWidth = 1.5;
    ctx.beginPath();
    let pen = false;
    for (const p of pts) {
      const v = p[key];
      if (v == null) { pen = false; continue; }
      const px = x(p.t, w, pad), py = y(v);
      if (pen) ctx.lineTo(px, py); else ctx.moveTo(px, py);
      pen = true;
    }
    ctx.stroke();
  }
}

function counts(canvas, pts, x) {
  const { ctx, w, h } = setup(canvas);
  const pad = 34;
  const max = niceMax(Math.max(3, ...pts.map((p) => Math.max(p.desired || 0, p.running || 0, p.healthy || 0))) * 1.15);
  axis(ctx, w, h, pad, String(max), "0");
  const y = (v) => h - 2 - (v / max) * (h - 6);
  for (const [key, colour, dash, off] of [["desired", "#5f6b7a", [4, 3], 0], ["running", "#ed7100", [], 1], ["healthy", "#1d8102", [], -1]]) {
    ctx.strokeStyle = colour; ctx.lineWidth = 2; ctx.setLineDash(dash);
    ctx.beginPath();
    pts.forEach((p, i) => {
      const px = x(p.t, w, pad), py = y(p[key] || 0) + off;
      if (i === 0) ctx.moveTo(px, py);
      else { ctx.lineTo(px, y(pts[i - 1][key] || 0) + off); ctx.lineTo(px, py); }
    });
    ctx.stroke();
  }
  ctx.setLineDash([]);
}
