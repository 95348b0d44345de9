"""Elastic Load Balancing v2: Application Load Balancers, listeners, rules and target groups."""
