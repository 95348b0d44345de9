"""The data plane: client requests through the ALB to tasks, evaluated in batches."""
