"""EC2 through its own query dialect: find or make the network a script passes to
create_service, and boot container instances that join a cluster (issue 5)."""

from __future__ import annotations

import time

import pytest
from botocore.exceptions import ClientError

from tests.support.server import FAST, LiveServer

pytestmark = pytest.mark.server(speed=300)


def test_find_and_make_the_network(server: LiveServer) -> None:
    ec2 = server.client("ec2")
    zones = ec2.describe_availability_zones()["AvailabilityZones"]
    assert [z["ZoneName"] for z in zones] == ["us-east-1a", "us-east-1b", "us-east-1c"]
    assert all(z["State"] == "available" for z in zones)
    default = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"]
    assert len(default) == 1 and default[0]["IsDefault"] is True

    vpc = ec2.create_vpc(
        CidrBlock="10.9.0.0/16",
        TagSpecifications=[{"ResourceType": "vpc", "Tags": [{"Key": "Name", "Value": "lab"}]}],
    )["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.1.0/24", AvailabilityZone="us-east-1b")[
        "Subnet"
    ]
    assert subnet["AvailabilityZone"] == "us-east-1b" and subnet["VpcId"] == vpc
    sg = ec2.create_security_group(GroupName="web", Description="web", VpcId=vpc)["GroupId"]

    found = ec2.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": ["lab"]}])["Vpcs"]
    assert [v["VpcId"] for v in found] == [vpc]
    subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"]
    assert [s["SubnetId"] for s in subnets] == [subnet["SubnetId"]]
    groups = ec2.describe_security_groups(GroupIds=[sg])["SecurityGroups"]
    assert groups[0]["GroupName"] == "web" and groups[0]["VpcId"] == vpc

    with pytest.raises(ClientError) as e:
        ec2.describe_vpcs(VpcIds=["vpc-0000000000000000f"])
    assert e.value.response["Error"]["Code"] == "InvalidVpcID.NotFound"
    with pytest.raises(ClientError) as e:
        ec2.create_vpc(CidrBlock="10.10.0.0/16", DryRun=True)
    assert e.value.response["Error"]["Code"] == "DryRunOperation"


def test_container_instances_boot_and_join_their_cluster(server: LiveServer) -> None:
    ec2, ecs = server.client("ec2"), server.client("ecs")
    ecs.create_cluster(clusterName="ec2c")
    reservation = ec2.run_instances(
        ImageId="ami-0123456789abcdef0",
        InstanceType="m5.large",
        MinCount=2,
        MaxCount=2,
        UserData="#!/bin/bash\necho ECS_CLUSTER=ec2c >> /etc/ecs/ecs.config\n",  # boto3: base64
    )
    ids = [i["InstanceId"] for i in reservation["Instances"]]
    assert [i["State"]["Name"] for i in reservation["Instances"]] == ["pending", "pending"]
    ec2.get_waiter("instance_running").wait(InstanceIds=ids, WaiterConfig=FAST)
    deadline = time.monotonic() + 60  # the agents register a few simulated seconds later
    while len(arns := ecs.list_container_instances(cluster="ec2c")["containerInstanceArns"]) < 2:
        assert time.monotonic() < deadline, arns
        time.sleep(0.1)
    described = ecs.describe_container_instances(cluster="ec2c", containerInstances=arns)
    assert sorted(c["ec2InstanceId"] for c in described["containerInstances"]) == sorted(ids)
    assert all(c["agentConnected"] for c in described["containerInstances"])

    ec2.terminate_instances(InstanceIds=ids[:1])
    ec2.get_waiter("instance_terminated").wait(InstanceIds=ids[:1], WaiterConfig=FAST)
    states = {
        i["InstanceId"]: i["State"]["Name"]
        for r in ec2.describe_instances(InstanceIds=ids)["Reservations"]
        for i in r["Instances"]
    }
    assert states == {ids[0]: "terminated", ids[1]: "running"}
