"""The ECS + ELBv2 domain in simulated time. Imports no web, protocol, CLI or plotting code."""
