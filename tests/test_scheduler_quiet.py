"""The scheduler's quiet reconcile (`ServiceScheduler.is_quiet`) is a pure shortcut.

Whenever a reconcile would take the shortcut, `checked_reconcile` runs the full reconcile
instead and checks that it did exactly what the shortcut does: nothing but the steady-state
event when its deduplication window is over, one timer (the next reconcile), no random draw,
no change to the service, its deployments, its tasks or their targets. Installed for every
built-in scenario and a world with chaos; `pytest -p tests.test_scheduler_quiet` installs it
for a whole test run.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

import ecsim
from ecsim.model.ecs import messages as msg
from ecsim.model.ecs.enums import ControllerStatus, ServiceStatus
from ecsim.model.ecs.scheduler import ServiceScheduler
from ecsim.model.ecs.service import Service
from ecsim.model.events import ServiceEvent
from ecsim.scenario import builtin_names, load, run

_original_reconcile = ServiceScheduler.reconcile
CHECKED = [0]


def _fingerprint(sched: ServiceScheduler, svc: Service) -> Any:
    elb = sched.backend.elb
    tasks = []
    for t in svc.tasks.values():
        targets = []
        for tg_arn, ip, port in sorted(t.registrations):
            tg = elb.target_groups.get(tg_arn)
            target = tg.targets.get((ip, port)) if tg else None
            targets.append(
                None
                if target is None
                else (target.state, target.reason, target.description, target.generation)
            )
        tasks.append(
            (
                t.id,
                t.last_status,
                t.desired_status,
                t.replacing,
                t.replace_reason,
                t.counted_failure,
                t.version,
                sorted(t.registrations),
                sorted(t.draining),
                tuple(targets),
            )
        )
    deployments = [
        (
            d.id,
            d.status,
            d.rollout_state,
            d.rollout_state_reason,
            d.failed_tasks,
            d.had_healthy_task,
            d.desired_count,
            d.updated_at,
        )
        for d in svc.deployments
    ]
    messages = {k: v for k, v in svc.last_messages.items() if k != msg.steady_state(svc.name)}
    return (
        svc.status,
        svc.desired_count,
        svc.steady,
        svc.start_failures,
        svc.throttled_until,
        svc.last_completed.id if svc.last_completed else None,
        deployments,
        messages,
        tasks,
    )


def checked_reconcile(self: ServiceScheduler, svc: Service) -> None:
    quiet = (
        svc.effective_controller is ControllerStatus.ACTIVE
        and svc.status is not ServiceStatus.INACTIVE
        and self.is_quiet(svc)
    )
    if not quiet:
        _original_reconcile(self, svc)
        return
    ctx = self.ctx
    now = ctx.now
    last = svc.last_messages.get(msg.steady_state(svc.name))
    due = last is None or now - last >= ctx.settings.scheduler.event_dedup
    before = _fingerprint(self, svc)
    rng = self._rng.getstate()
    seq = ctx.kernel._seq
    n_events = len(ctx.log.events())
    svc.changed = True  # force the full reconcile
    _original_reconcile(self, svc)
    CHECKED[0] += 1
    new = ctx.log.events()[n_events:]
    expected = [msg.steady_state(svc.name)] if due else []
    assert [e.message for e in new if isinstance(e, ServiceEvent)] == expected
    assert all(isinstance(e, ServiceEvent) for e in new), new
    assert ctx.kernel._seq == seq + 1, "one timer: the next reconcile"
    assert _fingerprint(self, svc) == before
    assert self._rng.getstate() == rng
    assert not svc.changed, "the full reconcile poked nothing"
    assert svc.steady


def pytest_configure(config: pytest.Config) -> None:
    """As a plugin (`-p tests.test_scheduler_quiet`): check every reconcile of the run."""
    ServiceScheduler.reconcile = checked_reconcile  # type: ignore[method-assign]


@pytest.fixture
def checking(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(ServiceScheduler, "reconcile", checked_reconcile)
    CHECKED[0] = 0
    yield


@pytest.mark.parametrize("name", builtin_names())
def test_quiet_reconciles_of_builtin_scenarios_change_nothing(checking: None, name: str) -> None:
    run(load(name))


def test_quiet_reconciles_under_chaos_change_nothing(checking: None) -> None:
    w = ecsim.World.demo(seed=3, desired=4, rate=20.0)
    tasks = w.ecs.list_tasks(cluster="home")["taskArns"]
    w.advance(7 * 3600)  # past the 6 h deduplication of the steady-state event
    w.chaos.set_app_health(tasks[0], False)
    w.advance(600)
    w.chaos.kill_task(w.ecs.list_tasks(cluster="home")["taskArns"][1], reason="oom")
    w.advance(300)
    w.ecs.update_service(cluster="home", service="home-service", desiredCount=2)
    w.advance(900)
    w.chaos.crash_controller("home", "home-service")
    w.chaos.kill_task(w.ecs.list_tasks(cluster="home")["taskArns"][0])
    w.advance(300)
    w.chaos.restore_controller("home", "home-service")
    w.advance(900)
    assert CHECKED[0] > 100
    steady = [
        e
        for e in w.events(kind=ServiceEvent)
        if isinstance(e, ServiceEvent) and e.message.endswith("steady state.")
    ]
    assert len(steady) >= 3
