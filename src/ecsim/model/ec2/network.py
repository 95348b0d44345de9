"""The region's network: Availability Zones, VPCs, subnets, security groups and private IPs.

A new world has one default VPC with a subnet in each of three AZs. ecsim's default VPC is
10.0.0.0/16 with 10.0.N.0/24 subnets (AWS's own default VPC is 172.31.0.0/16) so that task IPs
read like the seed's 10.0.1.5. AWS reserves the first four and the last address of every subnet.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import TypeVar

from ecsim.model.aws.ids import Ids
from ecsim.model.aws.tags import TagStore
from ecsim.model.errors import AwsError, ec2_error

_T = TypeVar("_T")
RESERVED_HEAD = 4  # network, VPC router, DNS, future use


@dataclass
class AvailabilityZone:
    name: str
    zone_id: str
    region: str
    up: bool = True


@dataclass
class Vpc:
    id: str
    cidr: ipaddress.IPv4Network
    is_default: bool = False


@dataclass
class Subnet:
    id: str
    vpc_id: str
    az: str
    cidr: ipaddress.IPv4Network
    default_for_az: bool = False
    _next: int = RESERVED_HEAD
    in_use: set[str] = field(default_factory=set)

    @property
    def capacity(self) -> int:
        return self.cidr.num_addresses - RESERVED_HEAD - 1

    @property
    def available(self) -> int:
        return self.capacity - len(self.in_use)

    def allocate(self) -> str:
        """The next free address, walking the subnet so a freed IP is not reused at once."""
        usable = self.cidr.num_addresses - 1
        for _ in range(self.capacity):
            offset = self._next
            self._next = self._next + 1 if self._next + 1 < usable else RESERVED_HEAD
            ip = str(self.cidr.network_address + offset)
            if ip not in self.in_use:
                self.in_use.add(ip)
                return ip
        raise ec2_error(
            "InsufficientFreeAddressesInSubnet",
            f"The specified subnet {self.id} does not have enough free addresses.",
        )

    def release(self, ip: str) -> None:
        self.in_use.discard(ip)


@dataclass
class SecurityGroup:
    id: str
    name: str
    vpc_id: str
    description: str


class Network:
    """All VPC resources of the world's region."""

    def __init__(self, ids: Ids, region: str, az_count: int = 3) -> None:
        self.ids = ids
        self.region = region
        self.azs: dict[str, AvailabilityZone] = {}
        for i in range(az_count):
            name = f"{region}{'abcdef'[i]}"
            self.azs[name] = AvailabilityZone(name, f"use1-az{i + 1}", region)
        self.vpcs: dict[str, Vpc] = {}
        self.subnets: dict[str, Subnet] = {}
        self.security_groups: dict[str, SecurityGroup] = {}
        self.ip_owner: dict[str, str] = {}
        # The tags of the VPCs, subnets and security groups, and of the instances
        # (instances.py), by resource ID (docs/behaviour.md, "Tags")
        self.tags = TagStore()
        vpc = self.create_vpc("10.0.0.0/16", is_default=True)
        for i, az in enumerate(self.azs):
            self.create_subnet(vpc.id, f"10.0.{i + 1}.0/24", az, default_for_az=True)

    @property
    def default_vpc(self) -> Vpc:
        return next(v for v in self.vpcs.values() if v.is_default)

    def default_subnets(self) -> list[Subnet]:
        return [s for s in self.subnets.values() if s.default_for_az]

    def create_vpc(self, cidr: str, is_default: bool = False) -> Vpc:
        try:
            network = ipaddress.IPv4Network(cidr)
        except ValueError:
            raise ec2_error(
                "InvalidParameterValue",
                f"Value ({cidr}) for parameter cidrBlock is invalid. This is not a valid CIDR block.",
            ) from None
        if not 16 <= network.prefixlen <= 28:
            raise ec2_error("InvalidVpc.Range", f"The CIDR '{cidr}' is invalid.")
        vpc = Vpc(self.ids.resource("vpc"), network, is_default)
        self.vpcs[vpc.id] = vpc
        sg = SecurityGroup(self.ids.resource("sg"), "default", vpc.id, "default VPC security group")
        self.security_groups[sg.id] = sg
        return vpc

    def create_subnet(
        self, vpc_id: str, cidr: str, az: str, default_for_az: bool = False
    ) -> Subnet:
        vpc = self.vpc(vpc_id)
        if az not in self.azs:
            raise ec2_error(
                "InvalidParameterValue",
                f"Value ({az}) for parameter availabilityZone is invalid. Subnets can currently only be created in the following availability zones: {', '.join(self.azs)}.",
            )
        try:
            network = ipaddress.IPv4Network(cidr)
        except ValueError:
            raise ec2_error(
                "InvalidParameterValue",
                f"Value ({cidr}) for parameter cidrBlock is invalid. This is not a valid CIDR block.",
            ) from None
        if not network.subnet_of(vpc.cidr) or not 16 <= network.prefixlen <= 28:
            raise ec2_error("InvalidSubnet.Range", f"The CIDR '{cidr}' is invalid.")
        for other in self.subnets.values():
            if other.vpc_id == vpc_id and other.cidr.overlaps(network):
                raise ec2_error(
                    "InvalidSubnet.Conflict", f"The CIDR '{cidr}' conflicts with another subnet"
                )
        subnet = Subnet(self.ids.resource("subnet"), vpc_id, az, network, default_for_az)
        self.subnets[subnet.id] = subnet
        return subnet

    def create_security_group(self, name: str, description: str, vpc_id: str) -> SecurityGroup:
        self.vpc(vpc_id)
        if any(g.name == name and g.vpc_id == vpc_id for g in self.security_groups.values()):
            raise ec2_error(
                "InvalidGroup.Duplicate",
                f"The security group '{name}' already exists for VPC '{vpc_id}'",
            )
        sg = SecurityGroup(self.ids.resource("sg"), name, vpc_id, description)
        self.security_groups[sg.id] = sg
        return sg

    def tag(self, resource_id: str, tags: dict[str, str]) -> None:
        """CreateTags, and the `TagSpecifications` of a create call."""
        self.tags.set(resource_id, tags)

    def untag(self, resource_id: str, keys: list[str]) -> None:
        self.tags.remove(resource_id, keys)

    def vpc(self, vpc_id: str) -> Vpc:
        return _find(self.vpcs, vpc_id, "InvalidVpcID.NotFound", f"The vpc ID '{vpc_id}'")

    def subnet(self, subnet_id: str) -> Subnet:
        return _find(
            self.subnets, subnet_id, "InvalidSubnetID.NotFound", f"The subnet ID '{subnet_id}'"
        )

    def security_group(self, group_id: str) -> SecurityGroup:
        return _find(
            self.security_groups,
            group_id,
            "InvalidGroup.NotFound",
            f"The security group '{group_id}'",
        )

    def az(self, name: str) -> AvailabilityZone:
        try:
            return self.azs[name]
        except KeyError:
            raise AwsError(
                f"Unknown Availability Zone {name!r}; the region has {', '.join(self.azs)}",
                code="InvalidParameterValue",
            ) from None

    def allocate_ip(self, subnet: Subnet, owner: str) -> str:
        ip = subnet.allocate()
        self.ip_owner[ip] = owner
        return ip

    def release_ip(self, subnet: Subnet, ip: str) -> None:
        subnet.release(ip)
        self.ip_owner.pop(ip, None)


def _find(items: dict[str, _T], key: str, code: str, what: str) -> _T:
    """`items[key]`, or EC2's `<Kind>.NotFound` error saying `<what> does not exist`."""
    try:
        return items[key]
    except KeyError:
        raise ec2_error(code, f"{what} does not exist") from None
