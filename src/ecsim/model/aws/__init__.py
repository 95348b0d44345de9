"""AWS's vocabulary shared by every service: IDs and ARNs, parameters, what a name is."""
