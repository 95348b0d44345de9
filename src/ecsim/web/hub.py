"""The hub: one subscriber of the live world that folds each slice once and fans the result
out to every browser (a snapshot on connect, then each slice's changes).

It keeps what a new browser needs to join mid-way: requests served per target IP, and the
chart series (requests per second by answer, latency, desired/running/healthy counts).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ecsim.live.runtime import Batch, LiveWorld
from ecsim.model.autoscaling.metrics import TARGET_MAX, PredefinedMetric
from ecsim.model.events import RequestsCompleted
from ecsim.web import view
from ecsim.web.tours import Session, scenario_names, tours

SERIES_POINTS = 1800  # simulated seconds of chart history kept
CLIENT_BACKLOG = 64  # messages a slow browser may fall behind before it is resynchronised
RESYNC = ""  # in a client's queue: send a whole snapshot
VIEW_REFRESH = 3.0  # wall seconds: the view is re-read at least this often
TOUR_EVERY = 0.2  # wall seconds: a tour's step is looked at at least this often between reads
# Wall seconds without a batch after which the browsers get the clock anyway: the world
# publishes only when it records something, and an overloaded data plane records nothing
# while its requests wait (answers come in bursts many seconds apart).
CLOCK_TICK = 0.25
REPLAY_FRAMES = 3000  # the last messages' states kept for replay (5 minutes at 10 a second)


def dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), default=str)


def healthy_tasks(svc: dict[str, Any], groups: list[dict[str, Any]]) -> int:
    """The service's tasks that are healthy: tasks, not registrations (a task in two target
    groups counts once), and, as ECS judges a task in several target groups, healthy in every
    one it is registered in."""
    mine = set(svc["targetGroups"])
    states: dict[str, list[str]] = {}
    for tg in groups:
        if tg["arn"] in mine:
            for t in tg["targets"]:
                states.setdefault(t["id"], []).append(t["state"])
    return sum(1 for seen in states.values() if all(s == "healthy" for s in seen))


@dataclass(frozen=True)
class Frame:
    """What the page showed after one message: the clock, the view (its sections shared with
    the frames before and after while unchanged), the requests served per visible task and
    the load. Replaying simulated time t shows the last frame at or before t."""

    now: float
    clock: dict[str, Any]
    view: dict[str, Any]
    served: dict[str, int]
    load: dict[str, Any]


class Client:
    """One browser: a bounded queue of encoded messages, drained by its WebSocket writer."""

    _ids = 0

    def __init__(self) -> None:
        self.queue: asyncio.Queue[str] = asyncio.Queue()
        Client._ids += 1
        self.id = f"b{Client._ids}"  # tells a browser its own commands from the others'

    def put(self, message: str) -> None:
        if self.queue.qsize() >= CLIENT_BACKLOG:
            while not self.queue.empty():
                self.queue.get_nowait()
            self.queue.put_nowait(RESYNC)  # the writer sends a fresh snapshot instead
            return
        self.queue.put_nowait(message)


class Hub:
    def __init__(self, live: LiveWorld, session: Session | None = None) -> None:
        self.live = live
        self.session = session or Session()
        self.clients: set[Client] = set()
        self._queue: asyncio.Queue[Batch] | None = None
        self._task: asyncio.Task[None] | None = None
        self._known: set[tuple[str, str]] = set()
        self._sections: dict[str, str] = {}
        self._view: dict[str, Any] = {}
        self._last_view_wall = 0.0
        self.served: Counter[str] = Counter()
        self.series: deque[dict[str, Any]] = deque(maxlen=SERIES_POINTS)
        self._series_until = 0.0
        self._counts = {"desired": 0, "running": 0, "healthy": 0}
        self.build_ms: deque[float] = deque(maxlen=50)
        self.view_error: str | None = None
        self._scenario_list: list[dict[str, str]] | None = None
        self._faults: view.FaultLog | None = None
        self._tour_wall = 0.0
        self.session.refresh = lambda: self.after_command(None)
        self._sent_clock: tuple[float, float, bool] | None = None  # (now, speed, paused) sent
        self.frames: deque[Frame] = deque(maxlen=REPLAY_FRAMES)
        # The world this hub shows, as the page names it ({"kind": "shared" | "private", ...}),
        # and the share of its speed a private world got lately (the pool's fair slicing).
        self.place: dict[str, Any] = {"kind": "shared", "classroom": False}
        self.pace: Callable[[], float] | None = None

    # --- lifecycle ------------------------------------------------------------------------

    def ensure_started(self) -> None:
        if self._task is None or self._task.done():
            if self._queue is not None:
                self.live.unsubscribe(self._queue)
            self._queue = self.live.subscribe()
            self._fresh()
            self._task = asyncio.get_running_loop().create_task(self._run(), name="ecsim-web")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._queue is not None:
            self.live.unsubscribe(self._queue)
            self._queue = None

    def _fresh(self) -> None:
        """Start over from the world as it is now (first start, reset)."""
        w = self.live.world
        self._known.clear()
        self._sections.clear()
        period = w.settings.stats_period
        sealed = math.floor(w.now / period) * period
        self.served = Counter(w.traffic.stats(until=sealed)["by_target"]) if w.now else Counter()
        self.series.clear()
        self._series_until = sealed
        self.frames.clear()
        self._refresh_view()

    # --- folding --------------------------------------------------------------------------

    async def _run(self) -> None:
        assert self._queue is not None
        while True:
            try:
                async with asyncio.timeout(CLOCK_TICK):
                    batch = await self._queue.get()
            except TimeoutError:
                self._tick()
                continue
            batches = [batch]
            while not self._queue.empty():
                batches.append(self._queue.get_nowait())
            try:
                self._handle(batches)
            except Exception as e:  # the stream must outlive any one bad slice
                self.broadcast({"type": "error", "message": f"internal error in the stream: {e}"})

    def _handle(self, batches: list[Batch]) -> None:
        if any(b.reset for b in batches):
            self._fresh()
            self.broadcast_snapshot("reset")
            return
        events = [e for b in batches for e in b.events]
        requests = [e for e in events if isinstance(e, RequestsCompleted)]
        control = [e for e in events if not isinstance(e, RequestsCompleted)]
        by_status: Counter[str] = Counter()
        by_target: Counter[str] = Counter()
        for r in requests:
            by_status.update(r.by_status)
            by_target.update(r.by_target)
        self.served.update(by_target)
        changed: dict[str, Any] = {}
        if control or time.monotonic() - self._last_view_wall > VIEW_REFRESH:
            changed = self._refresh_view()
        elif self.session.tour is not None and time.monotonic() - self._tour_wall > TOUR_EVERY:
            changed = self._refresh_tour()
        points = self._fold_series(requests)
        message: dict[str, Any] = {
            "type": "slice",
            "clock": self.clock(),
            "events": [e.to_dict() for e in control],
            "traffic": {"byStatus": by_status, "byTarget": by_target},
            "served": self._served_visible(),
            "points": points,
            "load": self.load(),
        }
        if changed:
            message["view"] = changed
        self.broadcast(message)

    def _tick(self) -> None:
        """No batch for a while: the clock and the load, if the clock moved (a paused world
        sends nothing)."""
        c = self.live.clock
        if self._sent_clock == (self.live.world.now, c.speed, c.paused) or not self.clients:
            return
        self.broadcast({"type": "slice", "clock": self.clock(), "load": self.load()})

    def load(self) -> dict[str, Any]:
        """What the clients send and what waits: the client rate (requests/s the clients
        send, summed over the load balancers) and the requests in flight (arrived, not yet
        answered: queued at the targets or being served). An overloaded service answers
        fewer than it is sent, late, while the queue grows."""
        w = self.live.world
        offered = self._view.get("traffic", {}).get("rate", 0)
        return {"offered": offered, "inFlight": w.traffic.dataplane.in_flight}

    def _served_visible(self) -> dict[str, int]:
        ips = {t["ip"] for t in self._view.get("tasks", []) if t.get("ip")}
        return {ip: self.served[ip] for ip in ips}

    def _refresh_view(self) -> dict[str, Any]:
        """Re-read the view; the sections whose JSON changed since the last read."""
        began = time.perf_counter()
        w = self.live.world
        if self._faults is None or self._faults.world is not w:  # first read, or a reset
            self._faults = view.FaultLog(w)
        try:
            sections = view.build(w, self._known, self._faults)
        except Exception as e:  # keep the last good view; the page says what went wrong
            self.view_error = f"{type(e).__name__}: {e}"
            return {}
        self.view_error = None
        played = self.session.scenario
        sections["scenario"] = played.describe() if played is not None else None
        sections["tour"] = self._tour(sections)
        self._last_view_wall = time.monotonic()
        changed = {}
        for key, value in sections.items():
            text = dumps(value)
            if self._sections.get(key) != text:
                self._sections[key] = text
                changed[key] = value
            elif key in self._view:
                sections[key] = self._view[key]  # unchanged: the replay frames share it
        self._view = sections
        svc = sections["services"][0] if sections["services"] else None
        self._counts = {
            "desired": svc["desired"] if svc and svc["status"] == "ACTIVE" else 0,
            "running": svc["running"] if svc else 0,
            "healthy": healthy_tasks(svc, sections["targetGroups"]) if svc else 0,
        }
        self.build_ms.append((time.perf_counter() - began) * 1000)
        return changed

    def _tour(self, sections: dict[str, Any]) -> dict[str, Any] | None:
        """The guided tour's step, evaluated on the view the page is sent (tours.py)."""
        run = self.session.tour
        self._tour_wall = time.monotonic()
        if run is None:
            return None
        run.observe(self.live.world, sections)
        return run.describe()

    def _refresh_tour(self) -> dict[str, Any]:
        """Look at the tour's step again on the last view read (time and answers go on
        between two reads); the tour section if it changed."""
        if not self._view:
            return {}
        tour = self._tour(self._view)
        text = dumps(tour)
        if self._sections.get("tour") == text:
            return {}
        self._sections["tour"] = text
        self._view["tour"] = tour
        return {"tour": tour}

    def _fold_series(self, requests: list[RequestsCompleted]) -> list[dict[str, Any]]:
        """One chart point per sealed stats period: answers by status, latency, counts."""
        w = self.live.world
        period = w.settings.stats_period
        sealed = math.floor(w.now / period) * period
        if sealed <= self._series_until:
            return []
        by_time: dict[float, Counter[str]] = {}
        for r in requests:
            by_time.setdefault(r.time, Counter()).update(r.by_status)
        latency: dict[str, Any] = {"p50": None, "p99": None}
        if requests:
            latency = w.traffic.stats(since=self._series_until, until=sealed)["latency_ms"]
        points = []
        t = self._series_until + period
        steps = round((sealed - self._series_until) / period)
        if steps > SERIES_POINTS:
            t = sealed - (SERIES_POINTS - 1) * period
        while t <= sealed + 1e-9:
            counts = by_time.get(round(t, 9), Counter())
            point = {
                "t": round(t, 3),
                "s": dict(counts),
                "p50": latency["p50"] if counts else None,
                "p99": latency["p99"] if counts else None,
                **self._counts,
            }
            self.series.append(point)
            points.append(point)
            t += period
        self._series_until = sealed
        return points

    # --- messages -------------------------------------------------------------------------

    def clock(self) -> dict[str, Any]:
        c = self.live.clock
        self._sent_clock = (self.live.world.now, c.speed, c.paused)
        status = self.live.status()
        status["clock"] = view.clock_text(self.live.world, self.live.world.now)
        status["viewMs"] = round(sum(self.build_ms) / len(self.build_ms), 3) if self.build_ms else 0
        status["browsers"] = len(self.clients)
        status["viewError"] = self.view_error
        status["replayFrom"] = self.frames[0].now if self.frames else self.live.world.now
        if self.pace is not None:
            status["pace"] = round(self.pace(), 3)
        return status

    def snapshot(self, kind: str = "hello") -> dict[str, Any]:
        return {
            "type": kind,
            "clock": self.clock(),
            "view": self._view,
            "served": self._served_visible(),
            "load": self.load(),
            "series": list(self.series),
            "period": self.live.world.settings.stats_period,
            "tours": tours(),
            "scenarios": self._scenarios(),
            "realPorts": self.live.real_ports if self.place["kind"] == "shared" else [],
            "world": self.place,
            "limits": {"cpuTarget": TARGET_MAX[PredefinedMetric.CPU]},
        }

    def _scenarios(self) -> list[dict[str, str]]:
        if self._scenario_list is None:
            try:
                self._scenario_list = scenario_names()
            except Exception:  # the scenario layer must not take the page down
                self._scenario_list = []
        return self._scenario_list

    def broadcast(self, message: dict[str, Any]) -> None:
        self._record(message)
        text = dumps(message)
        for client in list(self.clients):
            client.put(text)

    def broadcast_snapshot(self, kind: str = "reset") -> None:
        snapshot = self.snapshot(kind)
        self._record(snapshot)
        text = dumps(snapshot)
        for client in list(self.clients):
            client.queue.put_nowait(text)

    def after_command(self, notice: str | None, origin: str | None = None) -> None:
        """A command changed the world: every browser sees the new view at once, and what
        was done (`origin`: the browser that did it, so the others can say it was not them)."""
        changed = self._refresh_view()
        message: dict[str, Any] = {"type": "slice", "clock": self.clock(), "events": []}
        if changed:
            message["view"] = changed
        if notice:
            message["notice"] = notice
            message["from"] = origin
        self.broadcast(message)

    def external(self, notice: str) -> None:
        """Something other than a browser changed the world (the AWS API, ecsim's API)."""
        self.after_command(notice, "api")

    # --- replay ---------------------------------------------------------------------------

    def _record(self, message: dict[str, Any]) -> None:
        clock = message.get("clock")
        if clock is None:
            return
        last = self.frames[-1] if self.frames else None
        served = message.get("served", last.served if last else {})
        load = message.get("load", last.load if last else {"offered": 0, "inFlight": 0})
        self.frames.append(Frame(clock["now"], clock, self._view, served, load))

    def replay(self, t: float) -> dict[str, Any]:
        """What the page showed at simulated time `t`: the last frame at or before it (the
        oldest kept, if `t` is older)."""
        if not self.frames:
            raise ValueError("There is nothing to replay yet.")
        frames = self.frames
        lo, hi = 0, len(frames)
        while lo < hi:  # the first frame after t
            mid = (lo + hi) // 2
            if frames[mid].now <= t:
                lo = mid + 1
            else:
                hi = mid
        frame = frames[max(0, lo - 1)]
        return {
            "t": frame.now,
            "clock": frame.clock,
            "view": frame.view,
            "served": frame.served,
            "load": frame.load,
            "from": frames[0].now,
            "to": frames[-1].now,
        }
