// The data plane drawn live on a canvas over the architecture: requests as packets from the
// client through the ALB and the target group to a task and back, coloured by the answer;
// at high rates as volume (flow width and counters) instead of thousands of dots.

export const STATUS_COLOURS = {
  "2": "#1d8102", "500": "#e07b00", "502": "#d13212", "503": "#7d3cd8", "504": "#b0084d",
  "000": "#687078", "4": "#0972d3", "3": "#0972d3",
};
export function statusColour(code) {
  const c = String(code);
  return STATUS_COLOURS[c] || STATUS_COLOURS[c[0]] || "#687078";
}

const OUT = "#0972d3";
const TRIP_MS = 1500; // a packet's round trip on screen, whatever the simulated latency
const MAX_DOTS_PER_SECOND = 45; // above this the flow is drawn as volume
const MAX_LIVE_DOTS = 400;

function centre(r) { return { x: r.x + r.w / 2, y: r.y + r.h / 2 }; }

export class Flow {
  constructor(canvas, stage) {
    this.canvas = canvas;
    this.stage = stage;
    this.ctx = canvas.getContext("2d");
    this.geom = null;
    this.packets = [];
    this.traces = [];
    this.mode = "dots";
    this.rate = { total: 0, byTarget: {}, errShare: 0, dominant: "2" };
    this.control = "ACTIVE";
    this.health = {};
    this.frames = 0;
    this.fpsSamples = [];
    this._lastFrame = performance.now();
    this.reduced = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    const loop = (ts) => { this.frame(ts); requestAnimationFrame(loop); };
    requestAnimationFrame(loop);
  }

  // --- geometry ------------------------------------------------------------------------

  measure(els) {
    const base = this.stage.getBoundingClientRect();
    const rect = (el) => {
      if (!el) return null;
      const r = el.getBoundingClientRect();
      if (!r.width && !r.height) return null;
      return { x: r.left - base.left, y: r.top - base.top, w: r.width, h: r.height };
    };
    const targets = new Map();
    for (const [ip, el] of els.targets) { const r = rect(el); if (r) targets.set(ip, r); }
    const tasks = new Map();
    for (const [ip, el] of els.tasks) { const r = rect(el); if (r) tasks.set(ip, r); }
    // every registration drawn: {ip, tg, r}, of every target group of the service
    const rows = [];
    for (const row of els.rows || []) { const r = rect(row.el); if (r) rows.push({ ip: row.ip, tg: row.tg, r }); }
    const client = rect(els.client), alb = rect(els.alb), tg = rect(els.tg);
    this.geom = {
      client, alb, tg, svc: rect(els.svc), tasksBox: rect(els.tasksBox), more: rect(els.more),
      targets, rows, primary: els.primary || "", tasks, vertical: !!(client && alb && alb.y > client.y + client.h - 2),
    };
    const dpr = window.devicePixelRatio || 1;
    const w = Math.max(1, Math.round(base.width)), h = Math.max(1, Math.round(base.height));
    if (this.canvas.width !== w * dpr || this.canvas.height !== h * dpr) {
      this.canvas.width = w * dpr; this.canvas.height = h * dpr;
    }
    this.dpr = dpr;
    this.geomVersion = (this.geomVersion || 0) + 1;
  }

  // the exit point of box a towards box b, and the entry point of b: a level line at a's
  // middle when b is beside it and that high (b may grow downwards: the line stays put)
  link(a, b) {
    if (!a || !b) return null;
    if (this.geom.vertical || b.x < a.x + a.w - 4) {
      return [{ x: a.x + a.w / 2, y: a.y + a.h }, { x: b.x + b.w / 2, y: b.y }];
    }
    const y = a.y + a.h / 2;
    if (y > b.y + 12 && y < b.y + b.h - 12) return [{ x: a.x + a.w, y }, { x: b.x, y }];
    return [{ x: a.x + a.w, y }, { x: b.x, y: b.y + b.h / 2 }];
  }

  // the polyline of a request to target ip (or stopping at the ALB / target group), through
  // its row in target group tgArn when known (a traced request), else in the first group
  route(ip, stopAt, tgArn) {
    const g = this.geom;
    if (!g || !g.client || !g.alb) return null;
    const pts = [];
    const ca = this.link(g.client, g.alb);
    pts.push(ca[0], ca[1], centre(g.alb));
    if (stopAt === "alb" || !g.tg) return pts;
    const at = this.link(g.alb, g.tg);
    pts.push(at[0], at[1]);
    const inTg = tgArn && ip ? g.rows.find((x) => x.tg === tgArn && x.ip === ip) : null;
    const row = (inTg && inTg.r) || (ip && g.targets.get(ip)) || g.more;
    if (stopAt === "tg" || !row) { pts.push(centre(g.tg)); return pts; }
    const task = g.tasks.get(ip);
    if (this.geom.vertical) {
      // down from the target group, then along the tasks' left edge to the task's: never over
      // another task's tile
      pts.push(centre(row));
      if (task) {
        const x = Math.max(2, (g.tasksBox ? g.tasksBox.x : task.x) - 5);
        pts.push({ x: g.tg.x + g.tg.w / 2, y: g.tg.y + g.tg.h }, { x, y: g.tg.y + g.tg.h + 8 },
          { x, y: task.y + task.h / 2 }, { x: task.x, y: task.y + task.h / 2 });
      }
    } else {
      pts.push({ x: row.x + 8, y: row.y + row.h / 2 }, { x: row.x + row.w - 4, y: row.y + row.h / 2 });
      pts.push({ x: g.tg.x + g.tg.w, y: row.y + row.h / 2 });
      if (task) pts.push(this.end(g, row, task)); // up to the task's tile, not over it
    }
    return pts;
  }

  // --- input ---------------------------------------------------------------------------

  // requests answered during one slice: spread over the wall time that slice stands for
  traffic(byStatus, byTarget, simSeconds, speed, health) {
    this.health = health || {};
    const total = Object.values(byStatus).reduce((a, b) => a + b, 0);
    if (simSeconds > 0) {
      const perSec = total / simSeconds;
      const alpha = 0.5;
      this.rate.total = this.rate.total * (1 - alpha) + perSec * alpha;
      const next = {};
      for (const [ip, n] of Object.entries(byTarget)) next[ip] = n / simSeconds;
      for (const ip of Object.keys(this.rate.byTarget)) {
        next[ip] = (next[ip] || 0) * alpha + this.rate.byTarget[ip] * (1 - alpha);
        if (next[ip] < 0.01) delete next[ip];
      }
      for (const ip of Object.keys(byTarget)) if (!(ip in this.rate.byTarget)) next[ip] = byTarget[ip] / simSeconds;
      this.rate.byTarget = next;
      const errs = Object.entries(byStatus).filter(([c]) => c[0] !== "2").reduce((a, [, n]) => a + n, 0);
      const share = total ? errs / total : 0;
      this.rate.errShare = this.rate.errShare * (1 - alpha) + share * alpha;
      let dom = "2", best = -1;
      for (const [c, n] of Object.entries(byStatus)) if (n > best) { best = n; dom = c; }
      if (total) this.rate.dominant = dom;
    } else if (!total) {
      return;
    }
    const wallSpan = Math.min(2000, Math.max(100, (simSeconds / Math.max(speed, 0.01)) * 1000));
    this.speed = speed;
    const offered = this.load ? this.load.offered : 0;
    this.mode = Math.max(this.rate.total, offered) * speed > MAX_DOTS_PER_SECOND ? "volume" : "dots";
    this.rateVersion = (this.rateVersion || 0) + 1;
    if (this.mode !== "dots" || this.reduced || !total) return;
    // pair answers with targets: error answers go first to targets that are not healthy
    const statuses = [];
    for (const [c, n] of Object.entries(byStatus)) for (let i = 0; i < n; i++) statuses.push(c);
    const noTarget = statuses.filter((c) => c === "503" || c === "000");
    const withTarget = statuses.filter((c) => c !== "503" && c !== "000");
    withTarget.sort((a, b) => (a[0] === "2") - (b[0] === "2"));
    const ips = [];
    for (const [ip, n] of Object.entries(byTarget)) for (let i = 0; i < n; i++) ips.push(ip);
    ips.sort((a, b) => (this.health[a] === "healthy") - (this.health[b] === "healthy"));
    const now = performance.now();
    const add = (status, ip, stopAt) => {
      if (this.packets.length >= MAX_LIVE_DOTS) return;
      this.packets.push({ status, ip, stopAt, start: now + Math.random() * wallSpan });
    };
    withTarget.forEach((c, i) => add(c, ips[i] || ips[Math.floor(Math.random() * ips.length)], null));
    noTarget.forEach((c) => add(c, null, c === "000" ? "alb" : "tg"));
  }

  // one traced request: a big packet that walks the hops
  trace(tr) {
    const ip = tr.target ? tr.target.split(":")[0] : null;
    const stopAt = tr.target ? null : (tr.targetGroup ? "tg" : "alb");
    this.traces.push({ status: String(tr.status), ip, stopAt, tg: tr.targetGroup, start: performance.now(), big: true });
  }

  // a fresh world: nothing of the old one stays in flight
  clear() {
    this.packets = [];
    this.traces = [];
    this.rate = { total: 0, byTarget: {}, errShare: 0, dominant: "2" };
    this.rateVersion = (this.rateVersion || 0) + 1;
  }

  setControl(status) { this.control = status; }

  // what the clients send (requests/s) and how many wait unanswered: the client edge is
  // labelled with what is sent
  setLoad(load) {
    const offered = load.offered || 0, waiting = load.inFlight || 0;
    if (this.load && this.load.offered === offered) { this.load.waiting = waiting; return; }
    this.load = { offered, waiting };
    this.rateVersion = (this.rateVersion || 0) + 1;
  }

  fps() {
    const s = this.fpsSamples;
    if (s.length < 2) return 0;
    return (1000 * (s.length - 1)) / (s[s.length - 1] - s[0]);
  }

  // --- drawing -------------------------------------------------------------------------

  frame(ts) {
    this.fpsSamples.push(ts);
    if (this.fpsSamples.length > 120) this.fpsSamples.shift();
    this.frames++;
    // Redraw only when something moves (packets) or changed (rates, layout, the scheduler):
    // a full-stage canvas redrawn every frame costs too much without a GPU.
    const moving = this.packets.length || this.traces.length;
    if (!moving) this.drawn = [];
    const key = `${this.mode}|${this.control}|${this.geomVersion}|${this.rateVersion}`;
    if (moving ? ts - (this._drawn || 0) < 32 : key === this._drawnKey) return;
    this._drawn = ts;
    this._drawnKey = key;
    const g = this.geom;
    const ctx = this.ctx;
    ctx.setTransform(this.dpr || 1, 0, 0, this.dpr || 1, 0, 0);
    ctx.clearRect(0, 0, this.canvas.width, this.canvas.height);
    if (!g || !g.client) return;
    this.drawControl(ctx, g, ts);
    if (this.mode === "volume") this.drawVolume(ctx, g, ts);
    else this.drawLinks(ctx, g);
    this.drawPackets(ctx, ts);
  }

  // how the scheduler's links to the target group and the tasks look: ACTIVE orange dashes;
  // CRASHED red with a cross; STUCK slate, dotted, with a pause sign (alive, no progress);
  // GONE grey with a cross
  controlLook(status = this.control) {
    return {
      ACTIVE: { colour: "#ed7100", dash: [5, 5], mark: "" },
      CRASHED: { colour: "#d13212", dash: [5, 5], mark: "cross" },
      STUCK: { colour: "#4b5d73", dash: [2, 4], mark: "pause" },
      GONE: { colour: "#8d99a8", dash: [5, 5], mark: "cross" },
    }[status] || { colour: "#ed7100", dash: [5, 5], mark: "" };
  }

  drawControl(ctx, g, ts) {
    if (!g.svc) return;
    const look = this.controlLook();
    const colour = look.colour;
    ctx.save();
    ctx.strokeStyle = colour;
    ctx.lineWidth = 1.6;
    ctx.setLineDash(look.dash);
    ctx.lineDashOffset = 0;
    const from = [];
    if (g.tg) from.push([{ x: g.tg.x + g.tg.w / 2, y: g.svc.y + g.svc.h }, { x: g.tg.x + g.tg.w / 2, y: g.tg.y }]);
    if (g.tasksBox) {
      const x = Math.min(g.tasksBox.x + g.tasksBox.w / 2, g.svc.x + g.svc.w - 20);
      from.push([{ x, y: g.svc.y + g.svc.h }, { x, y: g.tasksBox.y }]);
    }
    if (g.vertical) from.length = 0;
    for (const [a, b] of from) {
      if (b.y - a.y < 6) continue;
      ctx.beginPath(); ctx.moveTo(a.x, a.y); ctx.lineTo(b.x, b.y); ctx.stroke();
      const m = { x: a.x, y: (a.y + b.y) / 2 };
      if (look.mark === "cross") {
        ctx.setLineDash([]); ctx.lineWidth = 2.5;
        ctx.beginPath(); ctx.moveTo(m.x - 6, m.y - 6); ctx.lineTo(m.x + 6, m.y + 6);
        ctx.moveTo(m.x + 6, m.y - 6); ctx.lineTo(m.x - 6, m.y + 6); ctx.stroke();
      } else if (look.mark === "pause") {
        // a pause sign on a white disc: the scheduler is there but does nothing
        ctx.setLineDash([]);
        ctx.fillStyle = "#fff"; ctx.beginPath(); ctx.arc(m.x, m.y, 9, 0, Math.PI * 2); ctx.fill();
        ctx.lineWidth = 1.6; ctx.stroke();
        ctx.fillStyle = colour; ctx.fillRect(m.x - 4.5, m.y - 5, 3, 10); ctx.fillRect(m.x + 1.5, m.y - 5, 3, 10);
      }
      ctx.setLineDash(look.dash); ctx.lineWidth = 1.6;
    }
    ctx.restore();
  }

  polyline(ctx, pts) {
    ctx.beginPath();
    ctx.moveTo(pts[0].x, pts[0].y);
    for (let i = 1; i < pts.length; i++) ctx.lineTo(pts[i].x, pts[i].y);
    ctx.stroke();
  }

  // where the flow to target ip ends: the left edge of its task's tile (or of its group's card)
  end(g, row, task) {
    return { x: task.x, y: task.y + task.h / 2 };
  }

  // the lines from the target group to the tasks: one per row drawn, and one from the
  // "+N more" row to each task (or group of tasks) of the targets it stands for
  tgLinks(g) {
    const out = [];
    if (!g.tg) return out;
    const seen = new Set();
    const add = (row, task) => {
      const key = `${Math.round(row.y)} ${Math.round(task.x)} ${Math.round(task.y)}`;
      if (seen.has(key)) return;
      seen.add(key);
      if (g.vertical) {
        const x = Math.max(2, (g.tasksBox ? g.tasksBox.x : task.x) - 5);
        out.push([{ x: g.tg.x + g.tg.w / 2, y: g.tg.y + g.tg.h }, { x, y: g.tg.y + g.tg.h + 8 },
          { x, y: task.y + task.h / 2 }, { x: task.x, y: task.y + task.h / 2 }]);
      } else {
        out.push([{ x: g.tg.x + g.tg.w, y: row.y + row.h / 2 }, this.end(g, row, task)]);
      }
    };
    const drawn = new Set();
    for (const { ip, r: row } of g.rows) {
      drawn.add(ip);
      const task = g.tasks.get(ip);
      if (task) add(row, task);
    }
    if (g.more) for (const [ip, task] of g.tasks) if (!drawn.has(ip)) add(g.more, task);
    return out;
  }

  drawLinks(ctx, g) {
    ctx.save();
    ctx.strokeStyle = "rgba(95,107,122,0.28)";
    ctx.lineWidth = 1.5;
    const ca = this.link(g.client, g.alb);
    if (ca) this.polyline(ctx, ca);
    const at = this.link(g.alb, g.tg);
    if (at) this.polyline(ctx, at);
    for (const pts of this.tgLinks(g)) this.polyline(ctx, pts);
    ctx.restore();
  }

  drawVolume(ctx, g, ts) {
    const total = this.rate.total;
    const width = (r) => (r <= 0 ? 0 : Math.max(1.5, Math.min(16, 2 + 3.2 * Math.log10(1 + r))));
    const trunkColour = this.rate.errShare > 0.5 ? statusColour(this.rate.dominant) : (this.rate.errShare > 0.02 ? "#e07b00" : "#1d8102");
    ctx.save();
    ctx.lineCap = "round";
    const flowLine = (pts, r, colour) => {
      const w = width(r);
      if (!w) return;
      ctx.strokeStyle = colour; ctx.globalAlpha = 0.25; ctx.lineWidth = w; ctx.setLineDash([]);
      this.polyline(ctx, pts);
      ctx.globalAlpha = 0.9; ctx.lineWidth = Math.max(1.5, w / 2.5);
      ctx.setLineDash([4, 12]); ctx.lineDashOffset = 0;
      this.polyline(ctx, pts);
    };
    const ca = this.link(g.client, g.alb);
    if (ca) flowLine(ca, total, trunkColour);
    const at = this.link(g.alb, g.tg);
    if (at) flowLine(at, total, trunkColour);
    ctx.setLineDash([]); ctx.globalAlpha = 1;
    if (g.tg && g.vertical) {
      ctx.save();
      ctx.strokeStyle = "rgba(95,107,122,0.28)"; ctx.lineWidth = 1.5;
      for (const pts of this.tgLinks(g)) this.polyline(ctx, pts);
      ctx.restore();
    }
    if (g.tg && !g.vertical) {
      // the registrations of the other target groups: thin links (requests are counted per
      // task, drawn through the first group)
      ctx.save();
      ctx.strokeStyle = "rgba(95,107,122,0.28)"; ctx.lineWidth = 1.5;
      for (const { ip, tg, r: row } of g.rows) {
        const task = g.tasks.get(ip);
        if (task && tg !== g.primary) this.polyline(ctx, [{ x: g.tg.x + g.tg.w, y: row.y + row.h / 2 }, this.end(g, row, task)]);
      }
      ctx.restore();
      const gap = g.tasksBox ? g.tasksBox.x - (g.tg.x + g.tg.w) : 0;
      for (const [ip, row] of g.targets) {
        const task = g.tasks.get(ip);
        const r = this.rate.byTarget[ip] || 0;
        if (!task || r <= 0) continue;
        const colour = this.health[ip] === "healthy" || this.health[ip] === undefined ? "#1d8102" : "#d13212";
        flowLine([{ x: g.tg.x + g.tg.w, y: row.y + row.h / 2 }, this.end(g, row, task)], r, colour);
        if (g.tasks.size <= 12) this.label(ctx, `${fmt(r)}/s`, (g.tg.x + g.tg.w + task.x) / 2, (row.y + row.h / 2 + task.y + task.h / 2) / 2 - 9, gap);
      }
      // the targets behind "+N more": one flow per task (or group of tasks) they reach
      if (g.more) {
        const rest = new Map();
        for (const [ip, task] of g.tasks) {
          if (g.targets.has(ip)) continue;
          const k = `${task.x} ${task.y}`;
          const e = rest.get(k) || { task, r: 0 };
          e.r += this.rate.byTarget[ip] || 0;
          rest.set(k, e);
        }
        for (const { task, r } of rest.values()) {
          if (r > 0) flowLine([{ x: g.tg.x + g.tg.w, y: g.more.y + g.more.h / 2 }, this.end(g, g.more, task)], r, "#1d8102");
        }
      }
    }
    // the client edge: what the clients send (an overloaded service answers fewer, late: the
    // page's numbers say how many wait; the edges to the tasks carry what is answered)
    const offered = this.load ? this.load.offered : total;
    if (ca) this.label(ctx, `${fmt(offered)} req/s`, (ca[0].x + ca[1].x) / 2, Math.min(ca[0].y, ca[1].y) - 14, g.vertical ? 0 : ca[1].x - ca[0].x);
    ctx.restore();
  }

  // a label on a line; not drawn when it is wider than the gap it sits in (it would hide
  // under the boxes)
  label(ctx, text, x, y, room = 0) {
    ctx.save();
    ctx.setLineDash([]); ctx.globalAlpha = 1;
    ctx.font = "600 11px system-ui, sans-serif";
    const w = ctx.measureText(text).width + 8;
    if (room && w > room + 6) { ctx.restore(); return; }
    ctx.fillStyle = "rgba(255,255,255,0.92)";
    ctx.fillRect(x - w / 2, y - 8, w, 16);
    ctx.fillStyle = "#16191f"; ctx.textAlign = "center"; ctx.textBaseline = "middle";
    ctx.fillText(text, x, y);
    ctx.restore();
  }

  drawPackets(ctx, ts) {
    const now = performance.now();
    this.drawn = []; // where this frame drew packets (read by the tests)
    const live = [];
    for (const p of this.packets) {
      const age = now - p.start;
      if (age < 0) { live.push(p); continue; }
      if (age > TRIP_MS) continue;
      live.push(p);
      this.drawPacket(ctx, p, age / TRIP_MS, 4);
    }
    this.packets = live;
    this.traces = this.traces.filter((p) => {
      const age = now - p.start;
      if (age > TRIP_MS * 2.4) return false;
      this.drawPacket(ctx, p, Math.min(1, age / (TRIP_MS * 2)), 8);
      return true;
    });
  }

  drawPacket(ctx, p, phase, r) {
    // a packet in flight keeps to its line when the layout changes (tasks come and go): its
    // route is taken again from the new geometry, at the same share of the way
    if (!p.pts || p.gv !== this.geomVersion) { p.pts = this.route(p.ip, p.stopAt, p.tg); p.gv = this.geomVersion; }
    const pts = p.pts;
    if (!pts || pts.length < 2) return;
    const back = phase > 0.5;
    const u = back ? 1 - (phase - 0.5) * 2 : phase * 2;
    const pos = along(pts, u);
    this.drawn.push({ x: pos.x, y: pos.y, r, ip: p.ip, stopAt: p.stopAt || null, tg: p.tg || null, gv: this.geomVersion });
    ctx.beginPath();
    ctx.arc(pos.x, pos.y, r, 0, Math.PI * 2);
    ctx.fillStyle = back ? statusColour(p.status) : OUT;
    ctx.fill();
    if (p.big) {
      ctx.lineWidth = 2; ctx.strokeStyle = "#fff"; ctx.stroke();
      if (back) this.label(ctx, p.status, pos.x, pos.y - 16);
    }
  }
}

function along(pts, u) {
  let total = 0;
  const seg = [];
  for (let i = 1; i < pts.length; i++) {
    const d = Math.hypot(pts[i].x - pts[i - 1].x, pts[i].y - pts[i - 1].y);
    seg.push(d); total += d;
  }
  let left = u * total;
  for (let i = 0; i < seg.length; i++) {
    if (left <= seg[i] || i === seg.length - 1) {
      const f = seg[i] ? Math.min(1, left / seg[i]) : 0;
      return { x: pts[i].x + (pts[i + 1].x - pts[i].x) * f, y: pts[i].y + (pts[i + 1].y - pts[i].y) * f };
    }
    left -= seg[i];
  }
  return pts[pts.length - 1];
}

export function fmt(n) {
  if (n >= 100) return Math.round(n).toLocaleString("en-US");
  if (n >= 10) return n.toFixed(0);
  return n.toFixed(1).replace(/\.0$/, "");
}
