"""ECS's quotas and the API's own limits, declared once (docs/behaviour.md, "ECS quotas").

Every face reads them from here, at the time of the call: the ECS facade (`api.py`, so boto3,
the AWS CLI and `w.ecs`), the service scheduler (the launch rate), Application Auto Scaling
(the desired count it asks for), the page's commands (which call the facade) and the scenario
files (built through the facade). Change one here and every face follows
(`tests/test_hardening_quotas.py`).

Sources: the ECS Developer Guide's "Amazon ECS service quotas" page
(https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-quotas.html), botocore's
ECS model (the batch sizes, the tags), the task CPU and memory page
(https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-cpu-memory-error.html) and
RegisterTaskDefinition's `cpu` (the EC2 range).
"""

from __future__ import annotations

import re

# --- services and tasks --------------------------------------------------------------------

TASKS_PER_SERVICE = 5_000  # "Tasks per service": the desired count; a call above it fails
FARGATE_LAUNCH_RATE = 500  # "Rate of tasks launched by a service on AWS Fargate", per minute
LAUNCH_RATE_WINDOW = 60.0  # simulated seconds: the "per minute" of the launch rate
RUN_TASK_COUNT = 10  # "Tasks launched (count) per run-task"
# "Target groups per service" (docs/behaviour.md, "Service load balancers")
TARGET_GROUPS_PER_SERVICE = 5

# --- batch sizes of the API (botocore's documentation of each list) ------------------------

DESCRIBE_CLUSTERS = 100  # DescribeClusters `clusters`: "up to 100"
DESCRIBE_CONTAINER_INSTANCES = 100  # DescribeContainerInstances `containerInstances`
DESCRIBE_SERVICES = 10  # DescribeServices `services`: "up to 10"
DESCRIBE_TASKS = 100  # DescribeTasks `tasks`: "up to 100"
UPDATE_CONTAINER_INSTANCES = 10  # UpdateContainerInstancesState: "up to 10"

# --- task definitions ----------------------------------------------------------------------

CONTAINERS_PER_TASK_DEFINITION = 10  # "Containers per task definition"
CONTAINER_NAME_LENGTH = 255
CONTAINER_NAME = re.compile(r"[A-Za-z0-9_-]+")  # the whole name (fullmatch), not a prefix

# Task size on Fargate: each CPU value (CPU units) and the memory values (MiB) it goes with.
FARGATE_TASK_SIZES: dict[int, tuple[int, ...]] = {
    256: (512, 1024, 2048),
    512: tuple(range(1024, 4096 + 1, 1024)),
    1024: tuple(range(2048, 8192 + 1, 1024)),
    2048: tuple(range(4096, 16384 + 1, 1024)),
    4096: tuple(range(8192, 30720 + 1, 1024)),
    8192: tuple(range(16384, 61440 + 1, 4096)),
    16384: tuple(range(32768, 122880 + 1, 8192)),
}
EC2_TASK_CPU = (128, 196_608)  # task-level CPU units on EC2: 0.125 to 192 vCPUs
