"""The `ecsim` command line."""
