"""Application Auto Scaling of ECS services: target tracking (reference 2.10)."""
