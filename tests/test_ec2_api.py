"""`w.ec2`: VPCs, subnets, security groups and AZs in boto3's shapes, with EC2's error codes."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from ecsim.model.errors import AwsError
from ecsim.model.world import World


@contextmanager
def error(code: str, match: str | None = None) -> Iterator[None]:
    """Expect an AwsError with `code` whose message matches the regex `match`."""
    with pytest.raises(AwsError) as info:
        yield
    err = info.value
    assert err.code == code, f"expected {code}, got {err.code}: {err.message}"
    if match is not None:
        assert re.search(match, err.message), err.message


@pytest.fixture
def w() -> World:
    return World(seed=1)


# --- VPCs -----------------------------------------------------------------------------------


def test_the_default_vpc(w: World) -> None:
    [vpc] = w.ec2.describe_vpcs()["Vpcs"]
    assert re.fullmatch(r"vpc-[0-9a-f]{17}", vpc["VpcId"])
    assert vpc["CidrBlock"] == "10.0.0.0/16"
    assert vpc["IsDefault"] is True
    assert vpc["State"] == "available"
    assert vpc["OwnerId"] == "123456789012"
    assert vpc["InstanceTenancy"] == "default"
    assert vpc["CidrBlockAssociationSet"][0]["CidrBlock"] == "10.0.0.0/16"
    assert vpc["CidrBlockAssociationSet"][0]["CidrBlockState"] == {"State": "associated"}
    assert "Tags" not in vpc


def test_describe_vpcs_filters(w: World) -> None:
    other = w.ec2.create_vpc(CidrBlock="172.16.0.0/16")["Vpc"]["VpcId"]
    default = w.net.default_vpc.id
    for name in ("is-default", "isDefault"):
        found = w.ec2.describe_vpcs(Filters=[{"Name": name, "Values": ["true"]}])["Vpcs"]
        assert [v["VpcId"] for v in found] == [default]
    found = w.ec2.describe_vpcs(Filters=[{"Name": "cidr", "Values": ["172.16.*"]}])["Vpcs"]
    assert [v["VpcId"] for v in found] == [other]
    found = w.ec2.describe_vpcs(VpcIds=[other, default])["Vpcs"]
    assert [v["VpcId"] for v in found] == [other, default]
    with error("InvalidVpcID.NotFound", "The vpc ID 'vpc-0' does not exist"):
        w.ec2.describe_vpcs(VpcIds=["vpc-0"])
    with error("InvalidParameterValue", "The filter 'colour' is invalid"):
        w.ec2.describe_vpcs(Filters=[{"Name": "colour", "Values": ["blue"]}])


def test_create_vpc(w: World) -> None:
    vpc = w.ec2.create_vpc(
        CidrBlock="10.1.0.0/16",
        TagSpecifications=[{"ResourceType": "vpc", "Tags": [{"Key": "Name", "Value": "lab"}]}],
    )["Vpc"]
    assert vpc["State"] == "pending"
    assert vpc["IsDefault"] is False
    assert vpc["Tags"] == [{"Key": "Name", "Value": "lab"}]
    [described] = w.ec2.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": ["lab"]}])["Vpcs"]
    assert described["VpcId"] == vpc["VpcId"]
    assert described["State"] == "available"
    groups = w.ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}])[
        "SecurityGroups"
    ]
    assert [g["GroupName"] for g in groups] == ["default"]


def test_create_vpc_errors(w: World) -> None:
    with error("MissingParameter", "CidrBlock"):
        w.ec2.create_vpc()
    with error("InvalidParameterValue", "not a valid CIDR block"):
        w.ec2.create_vpc(CidrBlock="10.1.0.0/33")
    with error("InvalidVpc.Range"):
        w.ec2.create_vpc(CidrBlock="10.0.0.0/8")
    with error("UnknownParameter", 'Unknown parameter in input: "Cidr"'):
        w.ec2.create_vpc(Cidr="10.1.0.0/16")
    with error("InvalidParameterValue", "expected a string"):
        w.ec2.create_vpc(CidrBlock=10)
    with error("DryRunOperation", "DryRun flag is set"):
        w.ec2.create_vpc(CidrBlock="10.1.0.0/16", DryRun=True)
    assert len(w.net.vpcs) == 1


# --- subnets --------------------------------------------------------------------------------


def test_the_default_subnets(w: World) -> None:
    subnets = w.ec2.describe_subnets()["Subnets"]
    assert [(s["AvailabilityZone"], s["CidrBlock"]) for s in subnets] == [
        ("us-east-1a", "10.0.1.0/24"),
        ("us-east-1b", "10.0.2.0/24"),
        ("us-east-1c", "10.0.3.0/24"),
    ]
    assert [s["AvailabilityZoneId"] for s in subnets] == ["use1-az1", "use1-az2", "use1-az3"]
    first = subnets[0]
    assert re.fullmatch(r"subnet-[0-9a-f]{17}", first["SubnetId"])
    assert first["VpcId"] == w.net.default_vpc.id
    assert first["AvailableIpAddressCount"] == 251  # 256 minus AWS's 5 reserved addresses
    assert first["DefaultForAz"] is True
    assert first["MapPublicIpOnLaunch"] is True
    assert first["State"] == "available"
    assert first["SubnetArn"] == f"arn:aws:ec2:us-east-1:123456789012:subnet/{first['SubnetId']}"


def test_available_ip_count_follows_allocations(w: World) -> None:
    subnet = w.net.default_subnets()[0]
    w.net.allocate_ip(subnet, owner="test")
    w.net.allocate_ip(subnet, owner="test")
    [shape] = w.ec2.describe_subnets(SubnetIds=[subnet.id])["Subnets"]
    assert shape["AvailableIpAddressCount"] == 249


def test_describe_subnets_filters(w: World) -> None:
    vpc = w.net.default_vpc.id

    def ids(*filters: tuple[str, list[str]]) -> list[str]:
        out = w.ec2.describe_subnets(Filters=[{"Name": n, "Values": v} for n, v in filters])
        return [s["SubnetId"] for s in out["Subnets"]]

    every = ids()
    assert len(every) == 3
    assert ids(("vpc-id", [vpc])) == every
    assert ids(("default-for-az", ["true"])) == every
    assert ids(("default-for-az", ["false"])) == []
    assert ids(("availability-zone", ["us-east-1b"])) == every[1:2]
    assert ids(("availability-zone", ["us-east-1a", "us-east-1c"])) == [every[0], every[2]]
    assert ids(("availability-zone", ["us-east-1b"]), ("vpc-id", [vpc])) == every[1:2]
    assert ids(("subnet-id", ["subnet-*"])) == every
    assert ids(("cidr-block", ["10.0.3.0/24"])) == every[2:]
    assert ids(("state", ["available"])) == every
    with error("InvalidParameterValue", "The filter 'zone' is invalid"):
        ids(("zone", ["us-east-1a"]))
    with error("InvalidSubnetID.NotFound", "The subnet ID 'subnet-0' does not exist"):
        w.ec2.describe_subnets(SubnetIds=["subnet-0"])


def test_create_subnet(w: World) -> None:
    vpc = w.ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    subnet = w.ec2.create_subnet(VpcId=vpc, CidrBlock="10.1.0.0/28", AvailabilityZone="us-east-1b")[
        "Subnet"
    ]
    assert subnet["AvailabilityZone"] == "us-east-1b"
    assert subnet["AvailableIpAddressCount"] == 11
    assert subnet["DefaultForAz"] is False
    assert subnet["MapPublicIpOnLaunch"] is False
    by_id = w.ec2.create_subnet(VpcId=vpc, CidrBlock="10.1.1.0/24", AvailabilityZoneId="use1-az3")
    assert by_id["Subnet"]["AvailabilityZone"] == "us-east-1c"
    # Without an AZ, EC2 picks one: ecsim takes the AZ where the VPC has fewest subnets.
    picked = w.ec2.create_subnet(VpcId=vpc, CidrBlock="10.1.2.0/24")["Subnet"]
    assert picked["AvailabilityZone"] == "us-east-1a"
    found = w.ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"]
    assert sorted(s["CidrBlock"] for s in found) == ["10.1.0.0/28", "10.1.1.0/24", "10.1.2.0/24"]


def test_create_subnet_errors(w: World) -> None:
    vpc = w.net.default_vpc.id
    with error("MissingParameter", '"VpcId"'):
        w.ec2.create_subnet(CidrBlock="10.0.9.0/24")
    with error("InvalidVpcID.NotFound"):
        w.ec2.create_subnet(VpcId="vpc-0", CidrBlock="10.0.9.0/24")
    with error("InvalidSubnet.Conflict"):
        w.ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/25", AvailabilityZone="us-east-1a")
    with error("InvalidSubnet.Range"):
        w.ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.0.0/24", AvailabilityZone="us-east-1a")
    with error("InvalidParameterValue", "us-east-1z"):
        w.ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.9.0/24", AvailabilityZone="us-east-1z")
    assert len(w.net.subnets) == 3


# --- security groups ------------------------------------------------------------------------


def test_the_default_security_group(w: World) -> None:
    [group] = w.ec2.describe_security_groups(GroupNames=["default"])["SecurityGroups"]
    assert re.fullmatch(r"sg-[0-9a-f]{17}", group["GroupId"])
    assert group["VpcId"] == w.net.default_vpc.id
    assert group["Description"] == "default VPC security group"
    assert group["IpPermissions"] == [
        {
            "IpProtocol": "-1",
            "IpRanges": [],
            "Ipv6Ranges": [],
            "PrefixListIds": [],
            "UserIdGroupPairs": [{"GroupId": group["GroupId"], "UserId": "123456789012"}],
        }
    ]
    assert group["IpPermissionsEgress"][0]["IpRanges"] == [{"CidrIp": "0.0.0.0/0"}]


def test_create_security_group(w: World) -> None:
    out = w.ec2.create_security_group(GroupName="web", Description="web tier")
    gid = out["GroupId"]
    assert out["SecurityGroupArn"] == f"arn:aws:ec2:us-east-1:123456789012:security-group/{gid}"
    [group] = w.ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": ["web"]}])[
        "SecurityGroups"
    ]
    assert (group["GroupId"], group["VpcId"]) == (gid, w.net.default_vpc.id)
    assert group["IpPermissions"] == []
    assert w.ec2.describe_security_groups(GroupIds=[gid])["SecurityGroups"][0]["GroupName"] == "web"
    with error("InvalidGroup.Duplicate", "already exists"):
        w.ec2.create_security_group(GroupName="web", Description="again")
    with error("InvalidParameterValue", "sg-"):
        w.ec2.create_security_group(GroupName="sg-web", Description="x")
    with error("MissingParameter", '"Description"'):
        w.ec2.create_security_group(GroupName="api")
    with error("InvalidGroup.NotFound", "The security group 'sg-0' does not exist"):
        w.ec2.describe_security_groups(GroupIds=["sg-0"])
    with error("InvalidGroup.NotFound", "'nope' does not exist in default VPC"):
        w.ec2.describe_security_groups(GroupNames=["nope"])


def test_security_groups_by_vpc(w: World) -> None:
    vpc = w.ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    gid = w.ec2.create_security_group(GroupName="web", Description="web", VpcId=vpc)["GroupId"]
    groups = w.ec2.describe_security_groups(
        Filters=[{"Name": "vpc-id", "Values": [vpc]}, {"Name": "group-name", "Values": ["w*"]}]
    )["SecurityGroups"]
    assert [g["GroupId"] for g in groups] == [gid]
    assert len(w.ec2.describe_security_groups()["SecurityGroups"]) == 3


# --- availability zones ---------------------------------------------------------------------


def test_availability_zones(w: World) -> None:
    zones = w.ec2.describe_availability_zones()["AvailabilityZones"]
    assert [(z["ZoneName"], z["ZoneId"], z["State"]) for z in zones] == [
        ("us-east-1a", "use1-az1", "available"),
        ("us-east-1b", "use1-az2", "available"),
        ("us-east-1c", "use1-az3", "available"),
    ]
    assert {z["RegionName"] for z in zones} == {"us-east-1"}
    assert {z["ZoneType"] for z in zones} == {"availability-zone"}
    one = w.ec2.describe_availability_zones(ZoneNames=["us-east-1b"])["AvailabilityZones"]
    assert [z["ZoneId"] for z in one] == ["use1-az2"]
    with error("InvalidParameterValue", r"Invalid availability zone: \[us-east-1z\]"):
        w.ec2.describe_availability_zones(ZoneNames=["us-east-1z"])


def test_a_failed_az_is_impaired(w: World) -> None:
    w.chaos.fail_az("us-east-1b")
    zones = w.ec2.describe_availability_zones()["AvailabilityZones"]
    assert [z["State"] for z in zones] == ["available", "impaired", "available"]
    up = w.ec2.describe_availability_zones(Filters=[{"Name": "state", "Values": ["available"]}])
    assert [z["ZoneName"] for z in up["AvailabilityZones"]] == ["us-east-1a", "us-east-1c"]
    w.chaos.restore_az("us-east-1b")
    zones = w.ec2.describe_availability_zones()["AvailabilityZones"]
    assert [z["State"] for z in zones] == ["available"] * 3
