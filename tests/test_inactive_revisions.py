"""A deregistered task definition revision starts no new task and backs no new service, while
the services that already use it go on (docs/behaviour.md, "Deleting task definitions")."""

from __future__ import annotations

from typing import Any

import pytest

import ecsim
from ecsim.model.demo import CLUSTER, SERVICE
from ecsim.model.errors import AwsError
from tests.support.worlds import register_revision


def _refused(call: Any, **params: Any) -> None:
    with pytest.raises(AwsError) as e:
        call(**params)
    assert e.value.code == "InvalidParameterException"
    assert e.value.message == "TaskDefinition is inactive"


def _running(w: ecsim.World) -> list[str]:
    return list(w.ecs.list_tasks(cluster=CLUSTER, serviceName=SERVICE)["taskArns"])


def _service(w: ecsim.World) -> dict[str, Any]:
    return dict(w.ecs.describe_services(cluster=CLUSTER, services=[SERVICE])["services"][0])


@pytest.mark.parametrize("deleted", [False, True])
def test_new_tasks_and_services_refuse_a_deregistered_revision(deleted: bool) -> None:
    w = ecsim.World.demo(seed=3)
    w.advance(60)
    old = _service(w)["taskDefinition"]
    new = register_revision(w)
    w.ecs.deregister_task_definition(taskDefinition=old)
    if deleted:
        w.ecs.delete_task_definitions(taskDefinitions=[old])
    status = w.ecs.describe_task_definition(taskDefinition=old)["taskDefinition"]["status"]
    assert status == ("DELETE_IN_PROGRESS" if deleted else "INACTIVE")
    network = _service(w)["networkConfiguration"]
    tasks_before = len(w.ecs.list_tasks(cluster=CLUSTER)["taskArns"])

    _refused(
        w.ecs.run_task,
        cluster=CLUSTER,
        taskDefinition=old,
        launchType="FARGATE",
        networkConfiguration=network,
    )
    _refused(
        w.ecs.create_service,
        cluster=CLUSTER,
        serviceName="late",
        taskDefinition=old,
        desiredCount=1,
        launchType="FARGATE",
        networkConfiguration=network,
    )
    w.ecs.update_service(cluster=CLUSTER, service=SERVICE, taskDefinition=new)
    w.advance(300)
    _refused(w.ecs.update_service, cluster=CLUSTER, service=SERVICE, taskDefinition=old)

    # nothing was made by the refused calls
    assert w.ecs.describe_services(cluster=CLUSTER, services=["late"])["services"] == []
    assert _service(w)["taskDefinition"] == new
    assert len(w.ecs.list_tasks(cluster=CLUSTER)["taskArns"]) == tasks_before


def test_a_service_on_a_deregistered_revision_still_scales_and_heals() -> None:
    w = ecsim.World.demo(seed=4)
    w.advance(60)
    current = _service(w)["taskDefinition"]
    w.ecs.deregister_task_definition(taskDefinition=current)
    w.ecs.update_service(cluster=CLUSTER, service=SERVICE, desiredCount=4)
    w.advance(120)
    assert len(_running(w)) == 4
    w.chaos.kill_task(sorted(_running(w))[0])
    w.advance(120)
    arns = _running(w)
    assert len(arns) == 4
    tasks = w.ecs.describe_tasks(cluster=CLUSTER, tasks=arns)["tasks"]
    assert {t["taskDefinitionArn"] for t in tasks} == {current}
    # UpdateService without a task definition keeps the one it has
    w.ecs.update_service(cluster=CLUSTER, service=SERVICE, forceNewDeployment=True)
    w.advance(300)
    assert _service(w)["taskDefinition"] == current
