"""Amazon ECS: clusters, task definitions, tasks, services and the service scheduler."""
