"""Application Auto Scaling of ECS services: target tracking
(docs/behaviour.md, "Service auto scaling")."""
