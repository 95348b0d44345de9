"""The clock: a deterministic discrete-event kernel and seeded random streams.

Nothing here knows about ECS or load balancers; `ecsim.model` builds on it.
"""

from ecsim.sim.kernel import Kernel, Timer
from ecsim.sim.rng import Streams, normals, uniforms

__all__ = ["Kernel", "Streams", "Timer", "normals", "uniforms"]
