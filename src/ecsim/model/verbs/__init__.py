"""ecsim's own verbs, for what AWS has no API for: chaos, FIS faults, client traffic."""
