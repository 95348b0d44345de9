"""Scenario text the tests build on: the seed's architecture as a scenario file's `world`."""

from __future__ import annotations

# The demo world (cluster home, home-service with 3 tasks behind home-alb's listener :80 and
# home-tg), as a scenario file writes it; a test adds its own name, traffic and timeline.
DEMO_WORLD = """world:
  clusters: [home]
  task_definitions:
    - family: home-app
  target_groups:
    - name: home-tg
  load_balancers:
    - name: home-alb
      listeners:
        - port: 80
          default_action: {forward: home-tg}
  services:
    - name: home-service
      cluster: home
      task_definition: home-app
      desired_count: 3
      target_groups: [home-tg]
"""


def demo_scenario(name: str, rest: str, duration: str = "2m") -> str:
    """A scenario file: `name`, `duration`, the demo world, then `rest` (traffic, timeline,
    expectations)."""
    return f"name: {name}\nduration: {duration}\n{DEMO_WORLD}{rest}"
