"""Every guided tour, played to its end on several seeds without a browser (the page's own
`tour` commands on a live world, each step fast-forwarded to its effect): every step's effect
is seen, every prediction gets a verdict read from the world, and a change of the world under
a tour is noticed (web/tours.py: "a claim holds on every seed")."""

from __future__ import annotations

from typing import Any

import pytest

from ecsim.live.runtime import LiveWorld
from ecsim.web import commands
from ecsim.web.tours import TOURS, Session, demo_world

SEEDS = [0, 1, 2, 5]


def table(seed: int) -> tuple[LiveWorld, Session]:
    return LiveWorld(demo_world, seed=seed, speed=1), Session(seed=seed)


def tour(live: LiveWorld, session: Session, **args: Any) -> commands.Outcome:
    return commands.run(live, {"cmd": "tour", "args": args}, session)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", [t.name for t in TOURS])
def test_every_tour_reaches_every_effect(name: str, seed: int) -> None:
    live, session = table(seed)
    tour(live, session, action="start", name=name)
    asked = judged = 0
    while session.tour is not None:
        run = session.tour
        commands._refresh(live, session)
        if run.phase == "predict":
            assert run.step.predict is not None
            tour(live, session, action="answer", choice=run.step.predict.options[-1][0])
            asked += 1
        if run.phase == "waiting":
            with pytest.raises(commands.CommandError, match="Not yet"):
                tour(live, session, action="next")
            tour(live, session, action="fast-forward")
            commands._refresh(live, session)
        assert run.phase == "done", (run.step.title, run.detail, run.note, run.moved)
        if run.verdict is not None:
            judged += 1
            assert run.verdict["right"] == (run.verdict["choice"] == run.verdict["happened"])
            assert run.verdict["why"]
        tour(live, session, action="next")
    assert asked == judged >= 1


@pytest.mark.parametrize("seed", SEEDS[:2])
def test_a_change_under_the_tour_is_noticed_and_rebuilt(seed: int) -> None:
    live, session = table(seed)
    tour(live, session, action="start", name="az-outage")
    commands._refresh(live, session)
    tour(live, session, action="next")
    tour(live, session, action="answer", choice="some")
    commands.run(live, {"cmd": "az", "args": {"az": "us-east-1a", "action": "restore"}}, session)
    commands._refresh(live, session)
    run = session.tour
    assert run is not None and run.phase == "moved"
    assert run.moved == "us-east-1a is available now: someone restored it"
    with pytest.raises(commands.CommandError, match="changed under the tour"):
        tour(live, session, action="next")
    tour(live, session, action="rebuild")
    assert (run.index, run.phase, run.moved) == (1, "predict", None)
    commands.run(live, {"cmd": "reset", "args": {}}, session)
    commands._refresh(live, session)
    assert run.phase == "moved" and "reset" in (run.moved or "")
