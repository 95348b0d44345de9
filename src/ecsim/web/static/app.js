// The page: one WebSocket to the live world. A snapshot on connect, then each slice's
// changes; commands go back over the same socket and every browser sees their effect.

import { Flow, fmt, statusColour } from "./flow.js";
import { drawCharts } from "./charts.js";

const $ = (sel) => document.querySelector(sel);
const RATES = [0, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000];
const SERIES_MAX = 1800;

const state = {
  view: { loadBalancers: [], targetGroups: [], services: [], tasks: [], azs: [], traffic: { rate: 0 } },
  clock: { now: 0, speed: 1, paused: false, clock: "--:--:--" },
  served: {},
  load: { offered: 0, inFlight: 0 }, // what the clients send (req/s) and what waits unanswered
  series: [],
  period: 1,
  tours: [],
  selected: null,
  focus: null, // the ARN of the service the diagram and the Manager's controls are about
  nextId: 1,
  pending: new Map(),
  seenEvents: new Set(),
  lastOwn: { text: "", at: 0 },
  messages: 0,
  me: null, // this browser's id on the server: its own commands' notices are not news
  world: { kind: "shared", classroom: false }, // the world shown: shared, or one's own
  ownTried: false,
  replay: null, // replaying: {t, live: the live state, kept up to date meanwhile}
};
window.__ecsim = {
  state, fps: () => flow.fps(), command, get flow() { return flow; },
  replay: (t) => replayAt(t), live: () => goLive(), takeOwn: () => takeOwn(),
};

const flow = new Flow($("#flow"), $("#stage"));
let ws = null;
let chartsDue = true;
let layoutDue = true;

// --- connection ----------------------------------------------------------------------------

function connect() {
  const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ecsim/ui/ws`;
  ws = new WebSocket(url);
  ws.onopen = () => setConn("live", "live");
  const mine = ws;
  ws.onclose = (e) => {
    if (mine !== ws) return; // replaced by a connection to another world
    setConn("down", "reconnecting…");
    for (const resolve of state.pending.values()) resolve(null);
    state.pending.clear();
    if (e.code === 1001) { state.ownTried = false; toast("Your world of your own was dropped (idle); back on the shared world.", "info"); }
    setTimeout(connect, 1000);
  };
  ws.onmessage = (e) => {
    let m;
    try { m = JSON.parse(e.data); } catch { return; }
    state.messages++;
    onMessage(m);
  };
}

// Another world (one's own, or the shared one): a new stream, the page starts over from its
// snapshot.
function reconnect() {
  const old = ws;
  ws = null;
  if (old) old.close();
  for (const resolve of state.pending.values()) resolve(null);
  state.pending.clear();
  if (state.replay) goLive();
  connect();
}

async function takeOwn() {
  const r = await fetch("/ecsim/ui/world", {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ want: "own" }),
  }).catch(() => null);
  const body = r ? await r.json().catch(() => ({})) : {};
  if (!r || !r.ok) { toast(body.message || "Could not make a world of your own.", "error"); return false; }
  sessionStorage.removeItem("ecsim-shared");
  reconnect();
  return true;
}

async function takeShared() {
  const r = await fetch("/ecsim/ui/world", {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ want: "shared" }),
  }).catch(() => null);
  if (!r || !r.ok) { toast("Could not go back to the shared world.", "error"); return; }
  sessionStorage.setItem("ecsim-shared", "1"); // (in a classroom: do not take one again)
  reconnect();
}

function setConn(cls, text) {
  const el = $("#conn");
  el.className = `conn ${cls}`;
  el.textContent = text;
}

function command(cmd, args = {}) {
  return new Promise((resolve) => {
    if (!ws || ws.readyState !== WebSocket.OPEN) {
      toast("Not connected to the simulator; retrying…", "error");
      resolve(null);
      return;
    }
    const id = state.nextId++;
    state.pending.set(id, resolve);
    ws.send(JSON.stringify({ id, cmd, args }));
  });
}

function onMessage(m) {
  if (m.type === "hello" || m.type === "reset") {
    if (state.replay) goLive(); // a fresh world, or a new stream: its past is not this one's
    if (m.you) state.me = m.you;
    if (m.world) {
      state.world = m.world;
      if (m.type === "hello" && m.world.classroom && m.world.kind === "shared" && !state.ownTried
          && sessionStorage.getItem("ecsim-shared") !== "1") {
        state.ownTried = true;
        takeOwn(); // a classroom: every browser its own world
      }
    }
    state.view = m.view;
    state.served = m.served || {};
    if (m.load) { state.load = m.load; flow.setLoad(m.load); }
    state.series = m.series || [];
    state.period = m.period || 1;
    if (m.tours) { state.tours = m.tours; state.scenarios = m.scenarios || []; renderTours(); }
    state.clock = m.clock;
    state.realPorts = m.realPorts || [];
    if (m.limits) applyLimits(m.limits);
    if (m.type === "reset") {
      // a fresh world: nothing of the old one stays on the page (the last trace, packets)
      state.seenEvents.clear();
      state.selected = null;
      $("#trace").textContent = "";
      flow.clear();
    }
    renderAll(m.type === "hello");
    renderWorld();
    return;
  }
  if (m.type === "slice") {
    if (m.notice && m.from && m.from !== state.me) news(m.notice, m.from, m.clock.now);
    if (state.replay) {
      // replaying: the live state goes on behind the page; "Live" shows it
      const live = state.replay.live;
      live.clock = m.clock;
      if (m.view) Object.assign(live.view, m.view);
      if (m.served) Object.assign(live.served, m.served);
      if (m.load) live.load = m.load;
      if (m.points && m.points.length) {
        live.series.push(...m.points);
        if (live.series.length > SERIES_MAX) live.series.splice(0, live.series.length - SERIES_MAX);
      }
      renderReplayBar();
      return;
    }
    state.clock = m.clock;
    if (m.view) Object.assign(state.view, m.view);
    if (m.served) Object.assign(state.served, m.served);
    if (m.load) { state.load = m.load; flow.setLoad(m.load); }
    if (m.points && m.points.length) {
      state.series.push(...m.points);
      if (state.series.length > SERIES_MAX) state.series.splice(0, state.series.length - SERIES_MAX);
      chartsDue = true;
    }
    if (m.traffic) {
      const secs = (m.points ? m.points.length : 0) * state.period;
      flow.traffic(m.traffic.byStatus || {}, m.traffic.byTarget || {}, secs, state.clock.speed, healthByIp());
    }
    if (m.view) renderView(); else { renderServed(); renderKpis(); }
    renderClock();
    renderReplayBar();
    if (m.notice && !m.from && !(m.notice === state.lastOwn.text && performance.now() - state.lastOwn.at < 3000)) {
      toast(m.notice, "info");
    }
    return;
  }
  if (m.type === "result" || m.type === "error") {
    const resolve = state.pending.get(m.id);
    state.pending.delete(m.id);
    if (m.type === "error") toast(m.message, "error", m.id);
    // a later command that worked takes an earlier error off the screen (its own toast, if
    // it has one, follows)
    else if (toastState.error && m.id != null && m.id > toastState.id) hideToast();
    if (resolve) resolve(m.type === "result" ? m : null);
  }
}

// --- rendering -----------------------------------------------------------------------------

function focusLb() { return state.view.loadBalancers[0] || null; }
function focusService() {
  const s = state.view.services;
  return s.find((x) => x.arn === state.focus)
    || s.find((x) => x.status === "ACTIVE") || s.find((x) => x.status === "DRAINING") || s[0] || null;
}
// The Manager's commands name the service the page shows (the server's default is its first).
function focusArgs(args = {}) {
  const svc = focusService();
  return svc ? { ...args, cluster: svc.cluster, service: svc.name } : args;
}
function focusTg() {
  const lb = focusLb();
  const svc = focusService();
  const arn = (svc && svc.targetGroups[0])
    || (lb && lb.listeners[0] && lb.listeners[0].targetGroups[0] && lb.listeners[0].targetGroups[0].arn);
  return state.view.targetGroups.find((t) => t.arn === arn) || state.view.targetGroups[0] || null;
}
function healthByIp() {
  const out = {};
  for (const tg of state.view.targetGroups) for (const t of tg.targets) out[t.id] = t.state;
  return out;
}

function renderAll(first) {
  renderView();
  renderClock();
  chartsDue = true;
  if (first) {
    $("#rate").value = String(rateIndex(state.view.traffic.rate));
    $("#rate-out").textContent = fmt(state.view.traffic.rate);
  }
}

function renderView() {
  renderLb();
  renderTargets();
  renderService();
  renderTasks();
  renderAzs();
  renderEvents();
  renderHealth();
  renderKpis();
  renderScenario();
  renderTour();
  const rate = state.view.traffic.rate;
  $("#client-rate").textContent = `${fmt(rate)} req/s`;
  if (document.activeElement !== $("#rate")) {
    $("#rate").value = String(rateIndex(rate));
    $("#rate-out").textContent = fmt(rate);
  }
  layoutDue = true;
}

function renderClock() {
  const c = state.clock;
  $("#clock").textContent = c.clock;
  // An internal error that escaped the simulation: the clock goes on, the page says so.
  const err = $("#sim-error");
  err.hidden = !c.error;
  if (c.error) {
    const more = c.error.count > 1 ? ` (${c.error.count} errors)` : "";
    err.textContent = `Internal error at ${fmt(c.error.at)} s: ${c.error.message}${more}; the clock goes on (details in the server log)`;
    err.title = err.textContent;
  }
  const play = $("#play");
  play.textContent = c.paused ? "Play" : "Pause";
  play.setAttribute("aria-label", c.paused ? "Resume the simulation" : "Pause the simulation");
  play.setAttribute("aria-pressed", String(!!c.paused));
  const sel = $("#speed");
  if (document.activeElement !== sel) {
    const v = String(c.speed);
    if (![...sel.options].some((o) => o.value === v)) sel.add(new Option(`${c.speed}x`, v));
    sel.value = v;
  }
}

function renderLb() {
  const lb = focusLb();
  $("#alb-name").textContent = lb ? lb.name : "(none)";
  $("#alb-name").title = lb ? `${lb.dns} (${lb.state})` : "";
  const li = lb && lb.listeners[0];
  $("#listener-port").textContent = li ? String(li.port) : "–";
  const shift = focusService()?.trafficShift;
  $("#n-listener").title = li
    ? `${li.protocol}:${li.port} → forward${shift && shift.label ? ` (production rule: ${shift.label})` : ""}`
    : "no listener";
  // Real local ports that answer for this listener (ecsim serve --alb-port).
  const real = li ? (state.realPorts || []).filter((r) => r.listenerPort === li.port
    && (!r.loadBalancer || r.loadBalancer === lb.name)) : [];
  $("#real-port").hidden = real.length === 0;
  $("#real-port").textContent = real.map((r) => `real port :${r.port}`).join(", ");
  $("#real-port").title = real.map((r) => `curl http://${location.hostname}:${r.port}/`).join("\n");
}

// Target rows drawn in the diagram, shared by the service's target groups: fewer when the tasks
// are drawn as groups; the rest is one "+N more" row, never a list cut mid-row.
const MAX_ROWS = 10, MAX_ROWS_GROUPED = 6;
// Every target group of the service shown, each with its registrations (a service in two
// groups registers every task in both); the first is the one the listener's default reaches.
function serviceTgs() {
  const svc = focusService();
  const first = focusTg();
  let arns = svc && svc.targetGroups.length ? svc.targetGroups : (first ? [first.arn] : []);
  // a blue/green, linear or canary service: its alternate group too (green, or blue after)
  if (svc && svc.trafficShift) arns = [...new Set([...arns, ...svc.trafficShift.targetGroups])];
  const out = arns.map((a) => state.view.targetGroups.find((t) => t.arn === a)).filter(Boolean);
  return out.length ? out : (first ? [first] : []);
}

function fillTargets(ul, tg, rows, moreId) {
  ul.textContent = "";
  ul.dataset.tg = tg.arn;
  // (one more row rather than a "+1 more" row)
  const n = tg.targets.length === rows + 1 ? rows + 1 : rows;
  let all = tg.targets;
  if (all.length > n) {
    // the rows shown spread over the zones, in turn: 10.0.1.5, 10.0.2.5, 10.0.3.5, 10.0.1.6…
    const byAz = new Map();
    for (const t of all) { const k = t.az || ""; if (!byAz.has(k)) byAz.set(k, []); byAz.get(k).push(t); }
    const queues = [...byAz.values()];
    all = [];
    for (let i = 0; all.length < tg.targets.length; i++) for (const q of queues) if (i < q.length) all.push(q[i]);
  }
  const shown = all.slice(0, n);
  for (const t of shown) {
    const li = document.createElement("li");
    li.dataset.ip = t.id;
    li.title = [t.state, t.reason, t.description].filter(Boolean).join(" — ");
    li.innerHTML = `<span class="mono">${esc(t.id)}:${esc(t.port)}</span><span class="pill ${esc(t.state)}">${esc(t.state)}</span>`;
    ul.append(li);
  }
  if (tg.targets.length > shown.length) {
    const counts = {};
    for (const t of all.slice(shown.length)) counts[t.state] = (counts[t.state] || 0) + 1;
    const li = document.createElement("li");
    li.className = "more";
    if (moreId) li.id = moreId;
    li.textContent = `+ ${tg.targets.length - shown.length} more (${Object.entries(counts).map(([k, v]) => `${v} ${k}`).join(", ")})`;
    ul.append(li);
  }
  if (!tg.targets.length) {
    const li = document.createElement("li");
    li.className = "more";
    li.textContent = "no registered targets";
    ul.append(li);
  }
}

// " · 90 %": the share of production traffic a group gets from its service's production
// listener rule, while the service shifts traffic (blue/green, linear, canary); "" otherwise.
function shareText(arn) {
  const shift = focusService()?.trafficShift;
  const pct = shift && shift.production[arn];
  return pct === undefined || pct === null ? "" : ` · ${pct} %`;
}

function renderTargets() {
  const tgs = serviceTgs();
  const tg = tgs[0] || null;
  const budget = shownTasks().length > GROUP_ABOVE ? MAX_ROWS_GROUPED : MAX_ROWS;
  const rows = Math.max(3, Math.floor(budget / Math.max(1, tgs.length)));
  $("#tg-h").firstChild.textContent = tgs.length > 1 ? "Target Groups " : "Target Group ";
  $("#tg-name").textContent = tg ? tg.name + shareText(tg.arn) : "";
  const ul = $("#targets");
  if (tg) fillTargets(ul, tg, rows, "targets-more");
  else { ul.textContent = ""; delete ul.dataset.tg; }
  // the service's other target groups, below the first, in the same box
  const others = $("#tg-others");
  others.textContent = "";
  for (const other of tgs.slice(1)) {
    const box = document.createElement("div");
    box.className = "tg-group";
    box.dataset.tg = other.arn;
    const h = document.createElement("h3");
    h.innerHTML = `<span class="small mono">${esc(other.name + shareText(other.arn))}</span>`;
    const list = document.createElement("ul");
    list.className = "targets";
    list.setAttribute("aria-label", `Registered targets of ${other.name}`);
    fillTargets(list, other, rows, null);
    box.append(h, list);
    others.append(box);
  }
}

function serviceStatus(svc) {
  if (!svc) return { text: "NO SERVICE", cls: "gone", heal: false, ctl: "GONE", why: "there is no service" };
  if (svc.status === "DRAINING") return { text: "DELETING (DRAINING)", cls: "gone", heal: false, ctl: "GONE", why: "being deleted" };
  if (svc.status === "INACTIVE") return { text: "DELETED (INACTIVE)", cls: "gone", heal: false, ctl: "GONE", why: "deleted" };
  if (svc.controller === "CRASHED") return { text: "LOGIC CRASHED", cls: "crashed", heal: false, ctl: "CRASHED", why: "the scheduler crashed" };
  if (svc.controller === "STUCK") return { text: "STUCK", cls: "stuck", heal: false, ctl: "STUCK", why: "the scheduler is stuck" };
  return { text: "Active", cls: "", heal: true, ctl: "ACTIVE", why: "" };
}

function renderService() {
  const svc = focusService();
  const st = serviceStatus(svc);
  const card = $("#n-svc");
  card.className = `node svc ${st.cls}`;
  $("#svc-name").textContent = svc ? svc.name : "";
  $("#svc-status").textContent = st.text;
  // with auto scaling on, the desired count is its to set, within min and max
  const auto = svc && svc.autoScaling && svc.autoScaling.enabled ? svc.autoScaling : null;
  $("#svc-desired").textContent = svc
    ? `${svc.desired}${auto ? ` · auto scaling, ${auto.min} to ${auto.max}` : ""}`
    : "–";
  $("#svc-running").textContent = svc ? `${svc.running} / ${svc.pending}` : "–";
  const heal = $("#svc-heal");
  heal.textContent = st.heal ? "ON" : `OFF (${st.why})`;
  heal.className = st.heal ? "on" : "off";
  $("#svc-deploy").textContent = svc
    ? svc.deployments.map((d) => `${d.status} ${d.taskDefinition} ${d.running}/${d.desired} ${d.rolloutState || ""}${d.failedTasks ? ` (failed ${d.failedTasks})` : ""}`).join(" · ") || "none"
    : "–";
  flow.setControl(st.ctl);
  const shown = state.view.services.filter((x) => x.status !== "INACTIVE");
  const pick = $("#svc-pick");
  $("#svc-pick-row").hidden = shown.length < 2;
  const options = shown.map((x) => `${x.arn} ${x.name}`).join("|");
  if (pick.dataset.options !== options) {
    pick.replaceChildren(...shown.map((x) => new Option(x.name, x.arn)));
    pick.dataset.options = options;
  }
  if (svc && document.activeElement !== pick) pick.value = svc.arn;
  const desired = $("#desired");
  if (svc && document.activeElement !== desired) desired.value = String(svc.desired);
  renderAutoScaling(svc);
}

// The predefined metrics of ECS service auto scaling: how the panel names them, and their unit.
const METRICS = {
  ECSServiceAverageCPUUtilization: ["CPU", " %"],
  ECSServiceAverageMemoryUtilization: ["memory", " %"],
  ALBRequestCountPerTarget: ["requests per target", ""],
};
const CPU_METRIC = "ECSServiceAverageCPUUtilization";
function num(n) { return String(Math.round(n * 10) / 10); }

function renderAutoScaling(svc) {
  const as = svc && svc.autoScaling;
  const on = !!(as && as.enabled);
  const lines = [];
  if (!on) {
    lines.push(`<span class="as-badge off">Off</span><span class="muted">${svc ? "the desired count is set by hand" : "no service"}</span>`);
  } else {
    const named = as.policies.map((p) => {
      const [what, unit] = METRICS[p.metric] || [p.metric, ""];
      return `${esc(what)} target ${esc(num(p.target))}${unit}`;
    });
    lines.push(`<span class="as-badge on">On</span>min ${esc(as.min)} / max ${esc(as.max)}, ${named.join(", ") || "no scaling policy"}`);
    for (const p of as.policies) {
      const [what, unit] = METRICS[p.metric] || [p.metric, ""];
      let text;
      if (!p.datapoints) text = `<span class="muted">${esc(what)}: first datapoint at the end of this minute</span>`;
      else if (p.datapoint == null) text = `<span class="muted">${esc(what)}: no data last minute (no running task)</span>`;
      else {
        text = `${esc(what)} <b>${esc(num(p.datapoint))}${unit}</b> last minute`;
        if (p.above) text += ` · above ${p.above}/${p.outAfter} min`;
        else if (p.below) text += ` · below ${p.below}/${p.inAfter} min`;
      }
      const alarms = `${p.name}: ${p.outAfter} minutes in a row above the target scale out (AlarmHigh), `
        + `${p.inAfter} below 90 % of it scale in (AlarmLow)`;
      lines.push(`<span title="${esc(alarms)}">${text}</span>`);
    }
  }
  const last = as && as.lastActivity;
  if (last) {
    lines.push(`<span title="${esc(last.cause)}">Last: ${esc(last.description)} <time>${esc(simClock(last.t))}</time></span>`);
  }
  const html = lines.map((l) => `<div>${l}</div>`).join("");
  const box = $("#as-state");
  if (box.dataset.html !== html) { box.innerHTML = html; box.dataset.html = html; }
  $("#as-off").disabled = !on;
  // The inputs show the settings when they change (here or in another browser), not while
  // someone types: what a learner typed stays until it is applied.
  const cpu = on ? as.policies.find((p) => p.metric === CPU_METRIC) : null;
  const sig = on ? `${svc.arn} ${as.min} ${as.max} ${cpu ? cpu.target : ""}` : "";
  const form = $("#as-form");
  if (sig && form.dataset.sig !== sig && !form.contains(document.activeElement)) {
    $("#as-min").value = String(as.min);
    $("#as-max").value = String(as.max);
    if (cpu) $("#as-target").value = num(cpu.target);
  }
  if (!form.contains(document.activeElement)) form.dataset.sig = sig;
}

function faultsOf(t) { return t.faults || []; }

function taskClass(t) {
  if (t.lastStatus === "STOPPED") return "dead";
  if (t.desiredStatus === "STOPPED") return "stopping";
  if (t.lastStatus !== "RUNNING") return "starting";
  if (t.targetHealth && t.targetHealth !== "healthy" && t.targetHealth !== "initial") return "sick";
  return "";
}

// The tasks the diagram shows: the focused service's (all tasks when there is no service).
function shownTasks() {
  const svc = focusService();
  const group = svc ? `service:${svc.name}` : null;
  let tasks = state.view.tasks.filter((t) => !group || t.group === group);
  if (!tasks.length && !svc) tasks = state.view.tasks;
  return tasks;
}

// Up to 6 tasks are drawn as cards, up to 12 as one-line tiles; more as one card per
// Availability Zone with counts per state ("12 RUNNING healthy"): every task counted, the
// diagram as tall with 100 tasks as with 13.
const COMPACT_ABOVE = 6, GROUP_ABOVE = 12;
const TASK_ICON = `<svg class="tico" viewBox="0 0 24 24" aria-hidden="true"><rect x="3" y="4" width="18" height="7" rx="1.5" fill="none" stroke="currentColor" stroke-width="2"/><rect x="3" y="13" width="18" height="7" rx="1.5" fill="none" stroke="currentColor" stroke-width="2"/><circle cx="7" cy="7.5" r="1.2" fill="currentColor"/><circle cx="7" cy="16.5" r="1.2" fill="currentColor"/></svg>`;
// a task's state as a group counts it: [order, label, pill class]
function groupState(t) {
  const h = t.targetHealth;
  if (t.lastStatus === "RUNNING" && t.desiredStatus !== "STOPPED") {
    if (h === "healthy") return [0, "RUNNING healthy", "healthy"];
    if (h === "initial") return [1, "RUNNING initial", "initial"];
    if (h && h !== "unused") return [2, `RUNNING ${h}`, "unhealthy"];
    return [3, "RUNNING", "RUNNING"];
  }
  const order = ["PROVISIONING", "PENDING", "ACTIVATING", "DEACTIVATING", "STOPPING", "DEPROVISIONING", "STOPPED"];
  const i = order.indexOf(t.lastStatus);
  return [4 + (i < 0 ? order.length : i), t.lastStatus, t.lastStatus];
}

const groupEls = new Map(); // Availability Zone -> its card
const groupIps = new Map(); // Availability Zone -> the IPs of its tasks
function renderGroups(ul, tasks) {
  const byAz = new Map();
  for (const t of tasks) {
    const az = t.az || "";
    if (!byAz.has(az)) byAz.set(az, []);
    byAz.get(az).push(t);
  }
  const azs = [...byAz.keys()].sort((a, b) => (a === "") - (b === "") || a.localeCompare(b));
  groupIps.clear();
  for (const az of azs) {
    const list = byAz.get(az);
    groupIps.set(az, list.filter((t) => t.ip && t.lastStatus !== "STOPPED").map((t) => t.ip));
    const counts = new Map();
    for (const t of list) {
      const [order, label, cls] = groupState(t);
      const c = counts.get(label) || { order, label, cls, n: 0 };
      c.n++;
      counts.set(label, c);
    }
    const chips = [...counts.values()].sort((a, b) => a.order - b.order);
    const faulted = list.filter((t) => faultsOf(t).length).length;
    let li = groupEls.get(az);
    if (!li) {
      li = document.createElement("li");
      const b = document.createElement("button");
      b.type = "button";
      b.className = "tgroup";
      b.addEventListener("click", () => {
        const pick = shownTasks().find((t) => (t.az || "") === az && t.lastStatus !== "STOPPED" && t.desiredStatus !== "STOPPED");
        if (pick) selectTask(pick.id);
      });
      li.append(b);
      groupEls.set(az, li);
    }
    const b = li.firstChild;
    b.dataset.az = az;
    const name = az || "no Availability Zone yet";
    const said = chips.map((c) => `${c.n} ${c.label}`).join(", ");
    b.setAttribute("aria-label", `${name}: ${list.length} tasks, ${said}${faulted ? `, ${faulted} under AWS FIS faults` : ""}. Select to act on one of them.`);
    const html = `<span class="ghead">${TASK_ICON}<span class="gname">${esc(name)}</span><span class="gcount">${list.length} tasks</span></span>`
      + `<span class="chips">${chips.map((c) => `<span class="pill ${esc(c.cls)}" data-state="${esc(c.label)}">${c.n} ${esc(c.label)}</span>`).join("")}`
      + (faulted ? `<span class="fbadge">${faulted} FIS</span>` : "") + "</span>"
      + `<span class="served" data-served-az="${esc(az)}">${fmt(groupIps.get(az).reduce((n, ip) => n + (state.served[ip] || 0), 0))} req</span>`;
    if (b.dataset.html !== html) { b.innerHTML = html; b.dataset.html = html; }
  }
  for (const [az, li] of groupEls) if (!byAz.has(az)) { li.remove(); groupEls.delete(az); }
  const want = azs.map((az) => groupEls.get(az));
  const have = [...ul.children];
  if (!(want.length === have.length && want.every((li, i) => li === have[i]))) {
    const active = document.activeElement;
    ul.textContent = "";
    for (const li of want) ul.append(li);
    if (active && ul.contains(active)) active.focus();
  }
}

const taskEls = new Map();
function renderTasks() {
  const svc = focusService();
  const tasks = shownTasks();
  const ul = $("#tasks");
  const grouped = tasks.length > GROUP_ABOVE;
  const compact = !grouped && tasks.length > COMPACT_ABOVE;
  ul.classList.toggle("compact", compact);
  ul.classList.toggle("grouped", grouped);
  if (grouped) renderGroups(ul, tasks);
  else { for (const li of groupEls.values()) li.remove(); groupEls.clear(); groupIps.clear(); }
  const keep = new Set();
  for (const t of grouped ? [] : tasks) {
    keep.add(t.id);
    let li = taskEls.get(t.id);
    if (!li) {
      li = document.createElement("li");
      const b = document.createElement("button");
      b.type = "button";
      b.className = "task";
      b.addEventListener("click", () => selectTask(t.id));
      li.append(b);
      taskEls.set(t.id, li);
    }
    const b = li.firstChild;
    const cls = taskClass(t);
    const faults = faultsOf(t);
    b.className = `task ${cls}${faults.length ? " faulted" : ""}${state.selected === t.id ? " selected" : ""}`;
    b.dataset.ip = t.ip || "";
    b.dataset.id = t.id;
    b.dataset.status = t.lastStatus;
    const name = compact ? (t.ip || t.id.slice(0, 8)) : (t.ip ? `Task ${t.ip}` : `Task ${t.id.slice(0, 8)}…`);
    const health = t.targetHealth ? ` · target ${t.targetHealth}` : "";
    const why = t.lastStatus === "STOPPED" || t.desiredStatus === "STOPPED" ? ` · ${t.stoppedReason || t.stopCode || ""}` : "";
    const under = faults.length ? `, under AWS FIS ${faults.map((f) => f.label).join(", ")}` : "";
    b.setAttribute("aria-label", `${name}, ${t.az || "no AZ yet"}, ${t.lastStatus}${health}${under}. Select to act on it.`);
    b.title = `${t.id}\n${t.taskDefinition} · ${t.lastStatus} (desired ${t.desiredStatus})${t.stoppedReason ? `\n${t.stoppedReason}` : ""}${t.containerReason ? `\n${t.containerReason}` : ""}`
      + faults.map((f) => `\nFIS ${f.action}: ${f.label}`).join("");
    b.innerHTML = TASK_ICON
      + `<span class="tname">${esc(name)}</span><span class="served" data-served="${esc(t.ip || "")}">${fmt(state.served[t.ip] || 0)} req</span>`
      + `<span class="tmeta">${esc(t.az || "–")} · <span class="pill ${esc(t.lastStatus)}">${esc(t.lastStatus)}</span> ${esc(t.taskDefinition)}${esc(health)}${esc(why)}</span>`
      + (faults.length ? `<span class="tfaults">${faults.map((f) => `<span class="fbadge" data-action="${esc(f.action)}">FIS ${esc(f.label)}</span>`).join("")}</span>` : "");
  }
  for (const [id, li] of taskEls) if (!keep.has(id)) { li.remove(); taskEls.delete(id); }
  const want = grouped ? [] : tasks.map((t) => taskEls.get(t.id));
  const have = [...ul.children].filter((c) => !c.classList.contains("empty"));
  const same = want.length === have.length && want.every((li, i) => li === have[i]);
  if (!grouped && !same) {
    const active = document.activeElement;
    ul.textContent = "";
    for (const li of want) ul.append(li);
    if (active && ul.contains(active)) active.focus();
  }
  if (!tasks.length) {
    ul.textContent = "";
    const li = document.createElement("li");
    li.className = "empty";
    li.textContent = svc ? "no tasks" : "no service, no tasks";
    ul.append(li);
  }
  // the task picker: the tasks shown that can still be acted on (not one on its way out:
  // DEACTIVATING, STOPPING, DEPROVISIONING or STOPPED)
  const pick = $("#task-pick");
  const alive = tasks.filter((t) => t.lastStatus !== "STOPPED" && t.desiredStatus !== "STOPPED");
  if (state.selected && !alive.some((t) => t.id === state.selected)) state.selected = null;
  const opts = alive.map((t) => [t.id, `${t.ip || t.id.slice(0, 8)} · ${t.az || ""} · ${t.lastStatus}${t.targetHealth ? ` · ${t.targetHealth}` : ""}${faultsOf(t).length ? ` · FIS ${faultsOf(t).map((f) => f.label).join(", ")}` : ""}`]);
  const sig = JSON.stringify(opts);
  if (pick.dataset.sig !== sig) {
    pick.dataset.sig = sig;
    const cur = state.selected || pick.value;
    pick.textContent = "";
    for (const [id, label] of opts) pick.add(new Option(label, id));
    if (!opts.length) pick.add(new Option("no running task", ""));
    if (cur && opts.some(([id]) => id === cur)) pick.value = cur;
  }
}

function renderServed() {
  for (const el of document.querySelectorAll("[data-served]")) {
    const ip = el.dataset.served;
    if (ip) el.textContent = `${fmt(state.served[ip] || 0)} req`;
  }
  for (const el of document.querySelectorAll("[data-served-az]")) {
    const ips = groupIps.get(el.dataset.servedAz) || [];
    el.textContent = `${fmt(ips.reduce((n, ip) => n + (state.served[ip] || 0), 0))} req`;
  }
}

function selectTask(id) {
  state.selected = id;
  $("#task-pick").value = id;
  for (const b of document.querySelectorAll(".task")) b.classList.toggle("selected", b.dataset.id === id);
}

function renderAzs() {
  const box = $("#azs");
  const sig = JSON.stringify(state.view.azs);
  if (box.dataset.sig === sig) return;
  box.dataset.sig = sig;
  box.textContent = "";
  for (const z of state.view.azs) {
    const up = z.state === "available";
    const b = document.createElement("button");
    b.type = "button";
    b.className = `btn ${up ? "" : "danger"}`;
    b.textContent = up ? `Fail ${z.name}` : `Restore ${z.name}`;
    b.setAttribute("aria-label", `${z.name} is ${z.state}: ${up ? "cut it off" : "bring it back"}`);
    b.addEventListener("click", () => command("az", { az: z.name, action: up ? "fail" : "restore" }).then(own));
    box.append(b);
  }
}

function renderEvents() {
  const svc = focusService();
  const ol = $("#events");
  const events = svc ? svc.events : [];
  const sig = events.map((e) => `${e.id} ${e.message}`).join(",");  // (a fault's start learns its length)
  if (ol.dataset.sig === sig) return;
  ol.dataset.sig = sig;
  const first = state.seenEvents.size === 0;
  ol.textContent = "";
  for (const e of events) {
    const li = document.createElement("li");
    if (!first && !state.seenEvents.has(e.id)) li.classList.add("fresh");
    if (e.kind === "scaling" || e.kind === "fault") li.classList.add(e.kind);
    state.seenEvents.add(e.id);
    li.innerHTML = `<time>${esc(simClock(e.t))}</time><span>${esc(e.message)}</span>`;
    ol.append(li);
  }
  if (!events.length) ol.innerHTML = `<li><span></span><span class="small">no events</span></li>`;
}

function renderHealth() {
  const body = $("#health tbody");
  body.textContent = "";
  for (const tg of state.view.targetGroups) {
    if (state.view.targetGroups.length > 1) {
      const tr = document.createElement("tr");
      tr.className = "tg-row";
      tr.innerHTML = `<td colspan="4">${esc(tg.name)}</td>`;
      body.append(tr);
    }
    for (const t of tg.targets) {
      const tr = document.createElement("tr");
      tr.dataset.ip = t.id;
      tr.innerHTML = `<td class="mono">${esc(t.id)}:${esc(t.port)}</td><td>${esc((t.az || "").replace(/^us-east-1/, ""))}</td>`
        + `<td><span class="pill ${esc(t.state)}">${esc(t.state)}</span></td>`
        + `<td class="reason">${t.reason ? `<strong>${esc(t.reason).replace(/\./g, ".<wbr>")}</strong><br>` : ""}${esc(t.description || "")}</td>`;
      body.append(tr);
    }
    if (!tg.targets.length) {
      const tr = document.createElement("tr");
      tr.innerHTML = `<td colspan="4" class="reason">${esc(tg.name)}: no registered targets</td>`;
      body.append(tr);
    }
  }
}

// The limits the model declares (the page has none of its own): the CPU target's input says it.
function applyLimits(limits) {
  const cpu = $("#as-target");
  if (limits.cpuTarget != null) {
    cpu.max = String(limits.cpuTarget);
    cpu.title = `TargetValue of ECSServiceAverageCPUUtilization: a percentage, above 0 and at most ${limits.cpuTarget}`;
  }
}

function renderKpis() {
  const pts = state.series.slice(-5);
  let total = 0, ok = 0, secs = 0;
  for (const p of pts) {
    secs += state.period;
    for (const [c, n] of Object.entries(p.s || {})) { total += n; if (c[0] === "2") ok += n; }
  }
  const last = state.series[state.series.length - 1] || {};
  // healthy targets are registrations: counted per target group of the service
  const tgs = serviceTgs();
  const healthyIn = (tg) => tg.targets.filter((t) => t.state === "healthy").length;
  const healthy = tgs.length ? healthyIn(tgs[0]) : 0;
  const also = tgs.slice(1).map((tg) => ` · <b>${healthyIn(tg)}</b> in ${esc(tg.name)}`).join("");
  const svc = focusService();
  const errs = {};
  for (const p of pts) for (const [c, n] of Object.entries(p.s || {})) if (c[0] !== "2") errs[c] = (errs[c] || 0) + n;
  const errText = Object.entries(errs).map(([c, n]) => `<b style="color:${statusColour(c)}">${c}: ${fmt(n / Math.max(secs, 1))}/s</b>`).join(" ");
  // What really happens under overload: the clients send more than is answered, the rest
  // waits in the targets' queues, and what is answered comes late; the share of 2xx among
  // the answers alone would read "100 %" while requests wait half a minute.
  const load = state.load || { offered: 0, inFlight: 0 };
  const offered = load.offered || 0;
  const waiting = load.inFlight || 0;
  const waitSecs = offered ? waiting / offered : 0;
  const slow = last.p50 != null && last.p50 >= 2000;
  const overloaded = waitSecs >= 1 || slow;
  const share = total ? `${((100 * ok) / total).toFixed(1)}%` : "–";
  const success = overloaded
    ? `<span class="kpi-warn" id="kpi-overload">overloaded: <b>${fmt(waiting)}</b> requests waiting${waitSecs >= 1 ? ` (≈${fmt(waitSecs)} s of traffic)` : ""}, answers late</span>`
      + `<span>2xx of the answers <b id="kpi-success">${share}</b></span>`
    : `<span>success <b id="kpi-success">${share}</b></span>`;
  $("#kpis").innerHTML = `<span>sent <b id="kpi-sent">${fmt(offered)}/s</b></span>`
    + `<span>answered <b id="kpi-answered">${fmt(secs ? total / secs : 0)}/s</b></span>`
    + success
    + `<span>p50 <b id="kpi-p50" class="${slow ? "warn" : ""}">${last.p50 != null ? fmt(last.p50) + " ms" : "–"}</b></span>`
    + (last.p99 != null && (slow || last.p99 >= 1000) ? `<span>p99 <b>${fmt(last.p99)} ms</b></span>` : "")
    + `<span>healthy targets <b id="kpi-healthy">${healthy}</b>${also ? ` in ${esc(tgs[0].name)}${also}` : ""}${svc ? ` / desired <b>${svc.desired}</b>` : ""}</span>`
    + (errText ? `<span>errors ${errText}</span>` : "");
}

function renderTours() {
  const sel = $("#tour");
  const keep = sel.value;
  sel.textContent = "";
  const g1 = document.createElement("optgroup");
  g1.label = "Guided tours of the seed";
  for (const t of state.tours) g1.append(new Option(t.title, `tour:${t.name}`));
  sel.append(g1);
  const g2 = document.createElement("optgroup");
  g2.label = "Built-in scenarios (ecsim run)";
  g2.append(new Option("The seed's architecture (default world)", "scenario:seed"));
  for (const s of state.scenarios || []) g2.append(new Option(`${s.name} — ${s.summary}`, `scenario:${s.name}`));
  sel.append(g2);
  if (keep) sel.value = keep;
}

function renderScenario() {
  const scn = state.view.scenario;
  const box = $("#scn-box");
  box.hidden = !scn;
  if (!scn) return;
  $("#scn-title").textContent = `Scenario ${scn.name}`;
  $("#scn-summary").textContent = scn.summary;
  $("#scn-explain").textContent = scn.explanation;
  const ol = $("#scn-steps");
  ol.textContent = "";
  scn.steps.forEach((st, i) => {
    const li = document.createElement("li");
    li.className = i < scn.index ? "done" : (i === scn.index ? "next" : "");
    const mm = `${Math.floor(st.t / 60)}m${String(Math.floor(st.t % 60)).padStart(2, "0")}s`;
    li.textContent = `${mm} ${st.label} (${st.do})${st.note ? ` — ${st.note}` : ""}`;
    ol.append(li);
  });
  const next = $("#scn-next");
  next.disabled = scn.index >= scn.steps.length;
  next.textContent = next.disabled ? "No more steps" : `Next step (${scn.steps[scn.index].label})`;
}

// --- whose world, what others changed, replay -----------------------------------------------

function renderWorld() {
  const w = state.world || { kind: "shared" };
  const own = w.kind === "private";
  const kind = $("#world-kind");
  kind.className = `world-kind${own ? " private" : ""}`;
  kind.textContent = own ? "Your own world" : "Shared world";
  kind.title = own
    ? "Only this browser sees and drives this world: its own clock, speed, scenario and tour. The AWS API and the ALB's ports stay on the shared world."
    : "The world the AWS API, the ALB's real ports and every browser without a world of its own share: what they do shows here.";
  const b = $("#world-own");
  b.textContent = own ? "Back to the shared world" : "Take a world of my own";
  b.title = own ? "Drop this world and watch the shared one" : "A private copy of the seed's world, with its own clock (one click)";
  if (own) $("#world-news").textContent = "";
}

// A change someone else made to the shared world: another browser, the AWS API, ecsim's API.
function news(notice, from, at) {
  let text;
  if (from === "api") text = notice.charAt(0).toUpperCase() + notice.slice(1);
  else if (/^the world was reset/.test(notice)) text = `Another browser reset the world${notice.replace(/^the world was reset/, "")}`;
  else if (from === "post") text = `A command sent to /ecsim/ui/command: ${notice}`;
  else text = `Another browser: ${notice}`;
  const el = $("#world-news");
  el.textContent = `${simClock(at)} ${text}`;
  el.title = el.textContent;
  toast(text, "info");
}

const replayReq = { busy: false, next: null };
function renderReplayBar() {
  const live = state.replay ? state.replay.live.clock : state.clock;
  const slider = $("#replay");
  const from = live.replayFrom != null ? live.replayFrom : live.now;
  slider.min = String(from);
  slider.max = String(live.now);
  if (!state.replay) {
    slider.value = String(live.now);
    $("#replay-at").textContent = "live";
  } else if (document.activeElement !== slider) {
    slider.value = String(state.replay.t);
  }
  slider.disabled = !(live.now > from);
  $("#replay-live").hidden = !state.replay;
  const span = Math.max(0, live.now - from);
  slider.setAttribute("aria-valuetext", state.replay ? `replaying ${simClock(state.replay.t)}` : "live");
  slider.title = `Scrub back over the last ${fmt(span / 60)} simulated minutes (read-only); Live returns`;
}

// Show what the page showed at simulated time t (read-only), from the server's frames.
async function replayAt(t) {
  replayReq.next = t;
  if (replayReq.busy) return null;
  let last = null;
  while (replayReq.next != null) {
    const want = replayReq.next;
    replayReq.next = null;
    replayReq.busy = true;
    const r = await command("replay", { t: want });
    replayReq.busy = false;
    if (r && r.data) { showReplay(r.data); last = r.data; }
  }
  return last;
}

function showReplay(d) {
  if (!state.replay) {
    state.replay = { t: d.t, live: { view: state.view, served: state.served, series: state.series, clock: state.clock, load: state.load } };
    document.body.classList.add("replaying");
    const controls = $(".controls");
    if (controls) controls.inert = true;
    for (const id of ["#play", "#step", "#step10", "#speed", "#reset"]) $(id).disabled = true;
    flow.clear();
  }
  state.replay.t = d.t;
  state.view = d.view;
  state.served = { ...d.served };
  state.clock = { ...d.clock };
  state.load = d.load || { offered: 0, inFlight: 0 };
  flow.setLoad(state.load);
  state.series = state.replay.live.series.filter((p) => p.t <= d.t);
  renderView();
  renderClock();
  chartsDue = true;
  $("#replay-at").textContent = `replay ${simClock(d.t)}`;
  renderReplayBar();
}

function goLive() {
  if (!state.replay) return;
  const live = state.replay.live;
  state.replay = null;
  Object.assign(state, { view: live.view, served: live.served, series: live.series, clock: live.clock, load: live.load });
  flow.setLoad(state.load);
  document.body.classList.remove("replaying");
  const controls = $(".controls");
  if (controls) controls.inert = false;
  for (const id of ["#play", "#step", "#step10", "#speed", "#reset"]) $(id).disabled = false;
  renderView();
  renderClock();
  chartsDue = true;
  renderReplayBar();
}

// --- commands from the page ----------------------------------------------------------------

function own(result) {
  if (result && result.message) {
    state.lastOwn = { text: result.message, at: performance.now() };
    toast(result.message, "info");
  }
  return result;
}

function selectedTask() {
  const id = $("#task-pick").value;
  if (!id) { toast("There is no running task to act on.", "error"); return null; }
  return id;
}

function bind() {
  $("#play").addEventListener("click", () => command(state.clock.paused ? "resume" : "pause"));
  $("#step").addEventListener("click", () => command("step", { seconds: 1 }));
  $("#step10").addEventListener("click", () => command("step", { seconds: 10 }));
  $("#speed").addEventListener("change", (e) => command("speed", { speed: Number(e.target.value) }));
  $("#reset").addEventListener("click", () => { endTour(); command("reset").then(own); });
  $("#send").addEventListener("click", async () => {
    const r = await command("send", { path: $("#send-path").value || "/" });
    if (r) { showTrace(r.data); flow.trace(r.data); follow($("#trace")); }
  });
  const rate = $("#rate");
  rate.addEventListener("input", () => { $("#rate-out").textContent = fmt(RATES[Number(rate.value)]); });
  rate.addEventListener("change", () => command("rate", { rps: RATES[Number(rate.value)] }).then(own));
  $("#task-pick").addEventListener("change", (e) => selectTask(e.target.value));
  for (const b of document.querySelectorAll("[data-kill]")) {
    b.addEventListener("click", () => {
      const task = selectedTask();
      if (task) command("kill", { task, how: b.dataset.kill }).then(own);
    });
  }
  for (const b of document.querySelectorAll("[data-fault]")) {
    b.addEventListener("click", () => {
      const task = selectedTask();
      if (task) command("fault", { task, action: b.dataset.fault }).then(own);
    });
  }
  for (const b of document.querySelectorAll("[data-sched]")) {
    b.addEventListener("click", () => command("scheduler", focusArgs({ action: b.dataset.sched })).then(own));
  }
  $("#svc-pick").addEventListener("change", (e) => {
    state.focus = e.target.value;
    renderView();
  });
  $("#desired-form").addEventListener("submit", (e) => {
    e.preventDefault();
    // (the form does not validate: the server's check words the refusal, e.g. of 3.5)
    const input = $("#desired");
    if (input.validity.badInput) { toast("'count' must be a whole number; what is typed is not a number", "error"); return; }
    const raw = input.value.trim();
    command("desired", focusArgs({ count: raw === "" ? raw : Number(raw) })).then(own);
  });
  $("#as-form").addEventListener("submit", (e) => {
    e.preventDefault();
    // a number as a number; anything else as typed, for the model to answer in AWS's words
    const value = (sel) => {
      const raw = $(sel).value.trim();
      return raw !== "" && Number.isFinite(Number(raw)) ? Number(raw) : raw;
    };
    const args = { action: "enable", min: value("#as-min"), max: value("#as-max"), target: value("#as-target") };
    command("autoscaling", focusArgs(args)).then(own);
  });
  $("#as-off").addEventListener("click", () => command("autoscaling", focusArgs({ action: "disable" })).then(own));
  $("#deploy").addEventListener("click", () => command("deploy", focusArgs({ kind: $("#deploy-kind").value })).then(own));
  $("#delete").addEventListener("click", () => command("delete_service", focusArgs()).then(own));
  $("#explain-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const r = await command("explain", { text: $("#explain-input").value });
    if (r) showExplain(r.data);
  });
  $("#tour-start").addEventListener("click", () => {
    const [kind, name] = $("#tour").value.split(/:(.*)/s);
    if (kind === "tour") startTour(name);
    else { endTour(); command("scenario", { name }).then(own); }
  });
  $("#scn-next").addEventListener("click", () => command("scenario_next").then(own));
  $("#scn-restart").addEventListener("click", () => {
    const scn = state.view.scenario;
    if (scn) command("scenario", { name: scn.name }).then(own);
  });
  $("#world-own").addEventListener("click", () => (state.world.kind === "private" ? takeShared() : takeOwn()));
  const slider = $("#replay");
  slider.addEventListener("input", () => {
    const live = state.replay ? state.replay.live.clock : state.clock;
    const t = Number(slider.value);
    if (t >= live.now - 1e-6) goLive(); else replayAt(t);
  });
  $("#replay-live").addEventListener("click", goLive);
  // (a step's own toast would repeat the tour box; the end of the tour is worth one)
  $("#tour-next").addEventListener("click", () => tourCommand("next").then((r) => { if (r && !state.view.tour) own(r); }));
  bindStage();
  $("#tour-end").addEventListener("click", endTour);
  $("#tour-ff").addEventListener("click", () => tourCommand("fast-forward"));
  $("#tour-rebuild").addEventListener("click", () => tourCommand("rebuild"));
  $("#tour-restart").addEventListener("click", () => tourCommand("restart"));
  $("#tour-options").addEventListener("change", () => { $("#tour-answer").disabled = false; });
  $("#tour-predict").addEventListener("submit", (e) => {
    e.preventDefault();
    const picked = document.querySelector("input[name=tour-choice]:checked");
    if (picked) tourCommand("answer", { choice: picked.value });
  });
  window.addEventListener("resize", () => { layoutDue = true; chartsDue = true; });
  if (window.ResizeObserver) new ResizeObserver(() => { layoutDue = true; }).observe($("#stage"));
  $("#tasks").addEventListener("scroll", () => { layoutDue = true; }, { passive: true });
  document.addEventListener("scroll", () => {}, { passive: true });
}

// --- the stage in view ---------------------------------------------------------------------

// On a phone the controls are a bottom sheet (position: fixed); elsewhere a panel beside the
// diagram. Where the window's visible part ends above the sheet.
function sheetTop() {
  const aside = $("#controls");
  return getComputedStyle(aside).position === "fixed" ? aside.getBoundingClientRect().top : window.innerHeight;
}
function smooth() {
  return window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches ? "auto" : "smooth";
}
// Scroll the page just enough that el is in view (above the sheet on a phone); its top first
// when it does not fit.
function reveal(el) {
  if (!el) return;
  const r = el.getBoundingClientRect();
  const top = 8, bottom = sheetTop() - 8;
  let dy = 0;
  if (r.top < top || r.height > bottom - top) dy = r.top - top;
  else if (r.bottom > bottom) dy = r.bottom - bottom;
  if (Math.abs(dy) > 1) window.scrollBy({ top: dy, behavior: smooth() });
}
// reveal el, and again for a few seconds whenever it changes size (the Manager's card grows
// when it says it crashed)
let followed = null;
function follow(el) {
  if (!el) return;
  followed = { el, h: el.getBoundingClientRect().height, until: performance.now() + 4000 };
  reveal(el);
}
function following() {
  if (!followed) return;
  if (performance.now() > followed.until) { followed = null; return; }
  const h = followed.el.getBoundingClientRect().height;
  if (Math.abs(h - followed.h) > 1) { followed.h = h; reveal(followed.el); }
}
// the node that shows the effect of a control: the Manager's card for the Manager's controls,
// the task (or its group) for a task's, the tasks for a zone's, the client for the rate
function effectOf(el) {
  if (el.closest("[data-sched], #deploy, #delete, #desired-form, #as-form, #as-off, #svc-pick")) return $("#n-svc");
  if (el.closest("[data-kill], [data-fault]")) {
    const task = state.view.tasks.find((t) => t.id === $("#task-pick").value);
    const tile = task && (document.querySelector(`#tasks .task[data-id="${CSS.escape(task.id)}"]`)
      || (groupEls.get(task.az || "") || {}).firstChild);
    return tile || $("#tasks");
  }
  if (el.closest("#azs")) return $("#tasks");
  if (el.closest("#rate")) return $("#n-client");
  return null;
}
function setSheet(open) {
  const aside = $("#controls");
  const toggle = $("#sheet-toggle");
  aside.classList.toggle("open", open);
  toggle.setAttribute("aria-expanded", String(open));
  toggle.textContent = open ? "Hide the controls" : "Controls";
  if (!open) return;
  // the diagram above the sheet: scrolled to when it is not there
  const stage = $("#stage").getBoundingClientRect();
  if (stage.bottom < 40 || stage.top > sheetTop() - 80) window.scrollBy({ top: stage.top - 8, behavior: smooth() });
}
function bindStage() {
  const aside = $("#controls");
  $("#sheet-toggle").addEventListener("click", () => setSheet(!aside.classList.contains("open")));
  // how tall the sheet is (on a phone), for what sits above it
  const sheetH = () => document.documentElement.style.setProperty("--sheet-h", `${Math.round(aside.getBoundingClientRect().height)}px`);
  if (window.ResizeObserver) new ResizeObserver(sheetH).observe(aside);
  const show = (e) => { const el = effectOf(e.target); if (el) requestAnimationFrame(() => follow(el)); };
  aside.addEventListener("click", (e) => { const b = e.target.closest("button"); if (b && b.type !== "submit") show(e); });
  aside.addEventListener("submit", show);
  aside.addEventListener("change", show);
}

function showTrace(tr) {
  const lbName = tr.loadBalancer;
  const tg = state.view.targetGroups.find((t) => t.arn === tr.targetGroup);
  const ip = tr.target ? tr.target.split(":")[0] : null;
  const task = ip && state.view.tasks.find((t) => t.ip === ip && t.lastStatus !== "STOPPED");
  const hops = [
    `<li><b>Client</b> sends <code>GET ${esc(tr.path)}</code> to ${esc(lbName)}'s DNS name</li>`,
    `<li><b>ALB</b> ${esc(lbName)} receives it on <b>listener :${esc(String(focusLb()?.listeners[0]?.port ?? 80))}</b>; the rule forwards to ${tg ? esc(tg.name) : "a target group"}</li>`,
  ];
  if (tr.targetGroup) {
    hops.push(tr.target
      ? `<li><b>Target group</b> ${tg ? esc(tg.name) : ""} — the ALB picks <b class="mono">${esc(tr.target)}</b>${tr.failOpen ? " (fail-open: too few healthy targets, routes to unhealthy ones too)" : ""}</li>`
      : `<li><b>Target group</b> ${tg ? esc(tg.name) : ""} — <b>no target to send to</b></li>`);
  }
  if (tr.target) {
    hops.push(`<li><b>Task</b> ${esc(ip)}${task ? ` (${esc(task.az)}, ${esc(task.lastStatus)})` : ""} ${tr.answeredBy === "target" ? "answers" : "does not answer; the ALB does"}</li>`);
  }
  hops.push(`<li>Answer <span class="st" style="color:${statusColour(tr.status)}">${esc(String(tr.status))}</span> in ${esc(String(tr.latencyMs))} ms from the ${tr.answeredBy === "target" ? "task" : "load balancer"}${tr.reason ? ` — ${esc(tr.reason)}` : ""}</li>`);
  $("#trace").innerHTML = `<h3>Trace of one request (at ${esc(simClock(tr.time))})</h3><ol>${hops.join("")}</ol>`;
}

function showExplain(x) {
  const lookup = (x.lookup || []).map((c) => `<li><code>${esc(c)}</code></li>`).join("");
  $("#explain-out").innerHTML = `<div class="box"><p><strong>${esc(x.answer)}</strong></p>`
    + `<p class="small">Why: ${esc(x.why)}</p>`
    + (x.live ? `<p class="small">In this world: ${esc(x.live)}</p>` : "")
    + (x.managedBy ? `<p class="small">Managed by: ${esc(x.managedBy)}</p>` : "")
    + (lookup ? `<p class="small">Look it up:</p><ul class="small">${lookup}</ul>` : "")
    + "</div>";
}

// --- guided tours --------------------------------------------------------------------------
// The tour is played on the server (web/tours.py): each step's effect is a condition on the
// world, evaluated on the view this page is sent; the page shows what the step waits for,
// enables Next once it was seen, and says when the world changed under the tour. A reload,
// or another browser, finds the tour where it is.

const SPOTS = { client: "#n-client", alb: "#n-alb", tg: "#n-tg", svc: "#n-svc", tasks: "#tasks" };

function tourCommand(action, args = {}) {
  return command("tour", { action, ...args });
}

function startTour(name) {
  tourCommand("start", { name });
  // the stage and the tour beside it (the panel is sticky): the diagram's top at the window's
  // top; the tour first in the panel, which keeps its own scroll: back to its top
  requestAnimationFrame(() => {
    $("#controls").scrollTop = 0;
    const top = $("#stage").getBoundingClientRect().top;
    if (Math.abs(top) > 8) window.scrollBy({ top: top - 8, behavior: smooth() });
  });
}

function renderTour() {
  const tour = state.view.tour || null;
  const box = $("#tour-box");
  const was = box.dataset.seq || "";
  box.hidden = !tour;
  renderSpot(tour);
  if (!tour) { box.dataset.seq = ""; return; }
  const seq = `${tour.name} ${tour.seq}`;
  const step = tour.step;
  $("#tour-step").innerHTML = `<span class="tour-name">${esc(tour.title)}</span>Step ${tour.index + 1} of ${tour.count} · ${esc(step.title)}`;
  const sel = $("#tour");
  if (document.activeElement !== sel) sel.value = `tour:${tour.name}`;
  $("#tour-text").textContent = step.text;
  // the prediction, asked before the step's call
  const form = $("#tour-predict");
  const asking = tour.phase === "predict" && !!step.predict;
  form.hidden = !asking;
  if (asking && form.dataset.seq !== seq) {
    form.dataset.seq = seq;
    $("#tour-question").textContent = step.predict.question;
    const box2 = $("#tour-options");
    box2.textContent = "";
    for (const [key, label] of step.predict.options) {
      const l = document.createElement("label");
      l.innerHTML = `<input type="radio" name="tour-choice" value="${esc(key)}"> <span>${esc(label)}</span>`;
      box2.append(l);
    }
    $("#tour-answer").disabled = true;
  }
  // what the step waits for, and what the world shows now
  const status = $("#tour-status");
  const met = tour.phase === "done";
  let head = "", now = tour.detail || "";
  if (tour.phase === "predict") { head = "Pick your prediction: then the step runs and you watch it happen."; now = ""; }
  else if (tour.phase === "waiting") head = `Waiting for ${step.effect}${tour.busy ? ` (${tour.busy}…)` : ""}.`;
  else if (met) head = `Seen: ${step.effect}.`;
  if (tour.note) now += ` ${tour.note}`;
  status.innerHTML = `<b>${esc(head)}</b>${now ? `<br><span class="tour-now">Now: ${esc(now)}</span>` : ""}`;
  status.className = `tour-status${met ? " met" : tour.phase === "waiting" ? " waiting" : ""}`;
  status.hidden = tour.phase === "moved";
  // the verdict on the learner's prediction, read from what happened
  const v = tour.verdict;
  const verdict = $("#tour-verdict");
  verdict.hidden = !v;
  if (v) {
    verdict.className = `tour-verdict${v.right ? "" : " wrong"}`;
    verdict.innerHTML = `<p><strong>${v.right ? "You were right." : "Not this time."}</strong> You predicted: ${esc(v.choiceLabel)}.`
      + `${v.right ? "" : ` What happened: ${esc(v.happenedLabel)}.`}</p><p>Why: ${esc(v.why)}</p>`;
  }
  // the world moved under the tour
  const moved = $("#tour-moved");
  moved.hidden = tour.phase !== "moved";
  if (tour.phase === "moved") {
    $("#tour-moved-text").textContent = `The world changed under this tour: ${tour.moved}. What the step says may no longer be true here.`;
    $("#tour-rebuild").disabled = !!tour.busy;
  }
  const next = $("#tour-next");
  next.disabled = !met || !!tour.busy;
  next.textContent = tour.index === tour.count - 1 ? "Finish" : "Next";
  const ff = $("#tour-ff");
  ff.hidden = tour.phase !== "waiting";
  ff.disabled = !!tour.busy;
  ff.textContent = step.retry ? "Send again" : "Fast-forward";
  // the request the step sent, traced as "Send one request" traces it
  if (tour.trace && box.dataset.trace !== String(tour.trace.time)) {
    box.dataset.trace = String(tour.trace.time);
    showTrace(tour.trace);
    flow.trace(tour.trace);
  }
  box.dataset.seq = seq;
  box.dataset.phase = tour.phase;
  if (was !== seq && was) next.focus({ preventScroll: true });
}

function renderSpot(tour) {
  const spot = tour && tour.phase !== "moved" ? tour.spot : null;
  for (const [key, sel] of Object.entries(SPOTS)) {
    const el = $(sel);
    if (el) el.classList.toggle("spot", !!spot && spot.node === key && !(key === "tasks" && spot.ips.length));
  }
  const ips = new Set(spot ? spot.ips : []);
  for (const b of document.querySelectorAll("#tasks .task")) b.classList.toggle("spot", ips.has(b.dataset.ip));
}

function endTour() {
  if (state.view.tour) tourCommand("end");
}

// --- helpers -------------------------------------------------------------------------------

let toastTimer = null;
// what the toast shows: an error (and the id of the command that failed, if one did)
const toastState = { error: false, id: 0 };
function toast(text, kind, id = null) {
  const el = $("#toast");
  el.textContent = text;
  el.className = `toast ${kind}`;
  el.hidden = false;
  toastState.error = kind === "error";
  toastState.id = id == null ? state.nextId - 1 : id;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(hideToast, kind === "error" ? 8000 : 3500);
}
function hideToast() {
  clearTimeout(toastTimer);
  $("#toast").hidden = true;
  toastState.error = false;
}

function rateIndex(rps) {
  let best = 0;
  RATES.forEach((r, i) => { if (Math.abs(r - rps) < Math.abs(RATES[best] - rps)) best = i; });
  return best;
}

function simClock(t) {
  if (t == null) return "";
  const s = Math.floor(t);
  const h = Math.floor(s / 3600) % 24, m = Math.floor(s / 60) % 60, sec = s % 60;
  return [h, m, sec].map((v) => String(v).padStart(2, "0")).join(":");
}

function esc(s) {
  return String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

function measure() {
  const targets = new Map(); // the first target group's rows: where requests are drawn through
  for (const li of document.querySelectorAll("#targets li[data-ip]")) targets.set(li.dataset.ip, li);
  const rows = []; // every registration drawn, of every target group of the service
  for (const li of document.querySelectorAll("#n-tg li[data-ip]")) {
    rows.push({ ip: li.dataset.ip, tg: li.parentElement.dataset.tg || "", el: li });
  }
  const tasks = new Map();
  const box = $("#tasks").getBoundingClientRect();
  // tasks drawn as groups: a request to a task goes to its Availability Zone's card
  for (const [az, ips] of groupIps) {
    const card = groupEls.get(az);
    if (card) for (const ip of ips) tasks.set(ip, card.firstChild);
  }
  for (const b of document.querySelectorAll("#tasks .task")) {
    if (!b.dataset.ip || b.dataset.status === "STOPPED") continue;
    const r = b.getBoundingClientRect();
    if (r.bottom > box.top && r.top < box.bottom) tasks.set(b.dataset.ip, b); // scrolled into view
  }
  flow.measure({
    client: $("#n-client"), alb: $("#n-alb"), tg: $("#n-tg"), svc: $("#n-svc"), tasksBox: $("#tasks"),
    more: $("#targets-more"), targets, rows, primary: $("#targets").dataset.tg, tasks,
  });
}

function tick() {
  if (layoutDue) { layoutDue = false; measure(); }
  if (chartsDue) {
    chartsDue = false;
    const win = Math.min(SERIES_MAX, Math.max(120, state.clock.speed * 60));
    drawCharts({ rps: $("#c-rps"), lat: $("#c-lat"), count: $("#c-count") }, state.series, win);
  }
}

bind();
connect();
setInterval(tick, 250);
requestAnimationFrame(function raf() { if (layoutDue) { layoutDue = false; measure(); } following(); requestAnimationFrame(raf); });
