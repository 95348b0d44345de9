"""ecsim's benchmarks (not timed tests): `python -m benchmarks`, see README.md."""
