"""AWS wire protocols driven by botocore's service models: JSON 1.1 (ECS) and query (ELBv2, EC2).

Each module turns a request on the wire into the keyword arguments of the model's facade
(`w.ecs`, `w.elbv2`, `w.ec2`) and a facade's answer into the bytes AWS would send, by walking
the operation's input and output shapes. No operation is written out by hand.
"""
