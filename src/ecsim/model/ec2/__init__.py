"""EC2: the region's network (VPCs, subnets, security groups, addresses) and instances."""
