"""The AWS-compatible API (ECS JSON 1.1, ELBv2 and EC2 query) and the ALB's real HTTP port."""
