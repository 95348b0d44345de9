"""ecsim: a time-accurate simulator of Amazon ECS services and tasks behind an Application
Load Balancer.

    import ecsim
    w = ecsim.World.demo(seed=0)     # the seed's architecture, already steady
    w.traffic.set_rate(50)
    w.advance(60)
    print(w.traffic.stats(since=w.now - 60))
"""

from ecsim.model import errors
from ecsim.model.errors import AwsError
from ecsim.model.settings import Settings
from ecsim.model.world import World

__all__ = ["AwsError", "Settings", "World", "errors"]
__version__ = "0.1.0"
