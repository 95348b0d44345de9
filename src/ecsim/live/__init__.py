"""The live world: one simulated world advanced in wall-clock-paced slices, shared by the
browser page, the AWS API and the simulated ALB's HTTP port."""
