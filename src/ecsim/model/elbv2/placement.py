"""Where an ALB is: SetSubnets and SetSecurityGroups (docs/behaviour.md, "Load balancer
subnets and security groups").

SetSubnets moves the load balancer's nodes: a node in each new subnet (an address of it),
the nodes of the subnets left released; targets in an Availability Zone the load balancer no
longer has go `unused` (`Target.NotInUse`), those in a new one start their checks.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ecsim.model import errors
from ecsim.model.aws.params import Params
from ecsim.model.elbv2.coverage import COVERAGE

if TYPE_CHECKING:
    from ecsim.model.ec2.network import Network, Subnet
    from ecsim.model.elbv2.backend import ElbBackend
    from ecsim.model.elbv2.resources import LoadBalancer


class ElbPlacement:
    """SetSubnets and SetSecurityGroups, for `Elbv2Api`."""

    elb: ElbBackend
    net: Network
    _load_balancer_subnets: Callable[[Params, list[str], list[Any]], list[Subnet]]
    _security_groups: Callable[[list[str], str], list[str]]

    def _load_balancer(self, arn: str) -> LoadBalancer:
        raise NotImplementedError

    def set_subnets(self, **kwargs: Any) -> dict[str, Any]:
        p = Params("SetSubnets", kwargs, errors.ValidationError)
        COVERAGE.screen(p)
        lb = self._load_balancer(p.req_str("LoadBalancerArn"))
        subnet_ids = p.strs("Subnets")
        mappings = p.list("SubnetMappings")
        p.done()
        if not subnet_ids and not mappings:
            raise errors.ValidationError("Either subnets or subnet mappings must be specified")
        subnets = self._load_balancer_subnets(p, subnet_ids, mappings)
        if any(s.vpc_id != lb.vpc_id for s in subnets):
            raise errors.InvalidConfigurationRequest(
                f"The subnets must all belong to the load balancer's VPC '{lb.vpc_id}'"
            )
        kept = dict(lb.node_ips)
        nodes = [
            (s.id, kept[s.id] if s.id in kept else self.net.allocate_ip(s, owner=lb.arn))
            for s in subnets
        ]
        for subnet_id, ip in self.elb.set_subnets(lb, subnets, nodes):
            subnet = self.net.subnets.get(subnet_id)
            if subnet is not None:
                self.net.release_ip(subnet, ip)
        return {
            "AvailabilityZones": [
                {"ZoneName": zone, "SubnetId": subnet_id, "LoadBalancerAddresses": []}
                for zone, subnet_id in sorted(lb.availability_zones)
            ],
            "IpAddressType": lb.ip_address_type,
        }

    def set_security_groups(self, **kwargs: Any) -> dict[str, Any]:
        p = Params("SetSecurityGroups", kwargs, errors.ValidationError)
        COVERAGE.screen(p)
        lb = self._load_balancer(p.req_str("LoadBalancerArn"))
        given = p.strs("SecurityGroups", required=True)
        p.done()
        if not given:
            raise errors.AwsError(
                "An Application Load Balancer must have at least one security group",
                code="InvalidConfigurationRequest",
            )
        groups = self._security_groups(given, lb.vpc_id)
        self.elb.set_security_groups(lb, groups)
        return {"SecurityGroupIds": list(lb.security_groups)}
