"""Scenario files: a world, a timeline of commands and expectations, run headless."""
