"""The live world: pacing to the wall clock, pause, speed, step, reset, and subscribers."""

from __future__ import annotations

import asyncio

import pytest

from ecsim.live.runtime import LiveWorld
from ecsim.model.world import World


def make(speed: float = 10.0) -> LiveWorld:
    return LiveWorld(lambda seed: World.demo(seed=seed), seed=1, speed=speed)


def test_simulated_time_follows_the_wall_clock_times_the_speed() -> None:
    live = make(speed=10)
    start_sim, wall = live.world.now, live.clock.anchor_wall
    live.tick(wall + 0.5)
    assert live.world.now == pytest.approx(start_sim + 5.0)
    live.set_speed(60)
    wall2 = live.clock.anchor_wall
    live.tick(wall2 + 0.5)
    assert live.world.now == pytest.approx(start_sim + 5.0 + 30.0)
    assert live.status()["speed"] == 60


def test_pause_holds_time_and_step_moves_it() -> None:
    live = make()
    live.pause()
    held = live.world.now
    live.tick(live.clock.anchor_wall + 100)
    assert live.world.now == held
    live.advance(30)
    assert live.world.now == pytest.approx(held + 30)
    live.resume()
    live.tick(live.clock.anchor_wall + 1)
    assert live.world.now == pytest.approx(held + 40)


def test_a_slow_machine_lets_simulated_time_slip_instead_of_stalling() -> None:
    live = make(speed=10)
    start = live.world.now
    live.tick(live.clock.anchor_wall + 3600)  # an hour of wall time missed
    assert live.world.now == pytest.approx(start + 10.0)  # at most MAX_LAG x speed per slice


def test_bad_speeds_are_refused() -> None:
    live = make()
    for bad in (0, -1, 1e9, float("nan")):
        with pytest.raises(ValueError, match="speed must be"):
            live.set_speed(bad)
    assert live.clock.speed == 10


def test_subscribers_get_each_slice_and_resets() -> None:
    async def scenario() -> None:
        live = make()
        queue = live.subscribe()
        arn = live.world.ecs.list_tasks(cluster="home")["taskArns"][0]
        live.world.chaos.kill_task(arn)
        live.tick(live.clock.anchor_wall + 1)
        batch = queue.get_nowait()
        kinds = {e.kind for e in batch.events}
        assert "TaskStateChanged" in kinds and batch.now == live.world.now
        live.reset(seed=2)
        assert queue.get_nowait().reset is True
        assert live.world.now > 0 and live.seed == 2
        live.unsubscribe(queue)
        live.tick(live.clock.anchor_wall + 1)
        assert queue.empty()

    asyncio.run(scenario())
