"""CloudWatch: the ALB's and the service's metrics, read from the world's records."""
