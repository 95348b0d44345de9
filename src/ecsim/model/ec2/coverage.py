"""What `w.ec2` does with each parameter of the EC2 operations it serves
(model/aws/coverage.py).

Refusals are `InvalidParameterValue`, as for ecsim's other refusals of EC2 values (IPv6,
tenancy). `DryRun` is modelled as EC2 has it: `DryRunOperation` where the call would have
succeeded.
"""

from __future__ import annotations

from ecsim.model.aws.coverage import Coverage, Member, modelled, no_effect, off, one_of, refused
from ecsim.model.errors import AwsError, ec2_error

_DRY_RUN = modelled("DryRun", "DryRunOperation instead of acting, where the call would succeed")
_DESCRIBE = modelled("Filters", "filter the answer (the filter names in ec2/api.py)")
_PAGES = no_effect(
    "NextToken MaxResults",
    "everything is answered in one page and no NextToken is handed out; paginators get all",
)
_TAGS = modelled("TagSpecifications", "the tags, answered by the Describe calls")
_IPV6 = "ecsim's VPCs are IPv4 only"
_IPAM = "IPAM address pools are not modelled; give the CidrBlock"


def _refused(paths: str, note: str, example: object) -> list[Member]:
    return [m for path in paths.split() for m in refused(path, note, example)]


OPERATIONS: dict[str, list[Member]] = {
    "DescribeVpcs": [*modelled("VpcIds", "the VPCs answered"), *_DESCRIBE, *_PAGES, *_DRY_RUN],
    "CreateVpc": [
        *modelled("CidrBlock", "the VPC's addresses (DescribeVpcs)"),
        *modelled("InstanceTenancy", "default; dedicated and host are refused"),
        *_TAGS,
        *_DRY_RUN,
        *refused("AmazonProvidedIpv6CidrBlock", _IPV6, True, one_of(False), "false"),
        *_refused("Ipv6CidrBlock Ipv6Pool Ipv6CidrBlockNetworkBorderGroup", _IPV6, "x"),
        *_refused("Ipv4IpamPoolId Ipv6IpamPoolId", _IPAM, "ipam-pool-0123456789abcdef0"),
        *_refused("Ipv4NetmaskLength Ipv6NetmaskLength", _IPAM, 24),
        *refused(
            "VpcEncryptionControl",
            "VPC encryption controls are not modelled",
            {"Mode": "monitor"},
        ),
    ],
    "DescribeSubnets": [
        *modelled("SubnetIds", "the subnets answered"),
        *_DESCRIBE,
        *_PAGES,
        *_DRY_RUN,
    ],
    "CreateSubnet": [
        *modelled(
            "VpcId CidrBlock AvailabilityZone AvailabilityZoneId",
            "the subnet, its zone and its free addresses (DescribeSubnets)",
        ),
        *_TAGS,
        *_DRY_RUN,
        *refused("Ipv6CidrBlock", _IPV6, "2600:1f18::/64"),
        *refused("Ipv6Native", _IPV6, True, one_of(False), "false"),
        *refused(
            "OutpostArn",
            "AWS Outposts are not modelled",
            "arn:aws:outposts:us-east-1:123456789012:outpost/op-1",
        ),
        *_refused("Ipv4IpamPoolId Ipv6IpamPoolId", _IPAM, "ipam-pool-0123456789abcdef0"),
        *_refused("Ipv4NetmaskLength Ipv6NetmaskLength", _IPAM, 24),
    ],
    "DescribeSecurityGroups": [
        *modelled("GroupIds GroupNames", "the groups answered"),
        *_DESCRIBE,
        *_PAGES,
        *_DRY_RUN,
    ],
    "CreateSecurityGroup": [
        *modelled("GroupName Description VpcId", "the group (DescribeSecurityGroups)"),
        *_TAGS,
        *_DRY_RUN,
    ],
    "DescribeAvailabilityZones": [
        *modelled("ZoneNames ZoneIds", "the zones answered"),
        *_DESCRIBE,
        *_DRY_RUN,
        *no_effect("AllAvailabilityZones", "every zone of an ecsim region is opted in"),
    ],
    "RunInstances": [
        *modelled(
            "ImageId InstanceType MinCount MaxCount SubnetId",
            "the instances (DescribeInstances), their CPU and memory for ECS tasks",
        ),
        *modelled("UserData", "ECS_CLUSTER= names the cluster the ECS agent joins"),
        *modelled(
            "SecurityGroupIds KeyName IamInstanceProfile Monitoring EbsOptimized",
            "answered by DescribeInstances (no security rule or IAM is checked)",
        ),
        *modelled(
            "ClientToken", "the same token again answers the instances it launched (idempotency)"
        ),
        *_TAGS,
        *_DRY_RUN,
        *no_effect(
            "BlockDeviceMappings",
            "disks: ecsim models no storage, and ECS registers an instance's CPU and memory",
        ),
        *no_effect(
            "MetadataOptions", "the instance metadata service: no simulated program reads it"
        ),
        *refused(
            "SecurityGroups",
            "security groups by name belong to EC2-Classic and default VPCs; give SecurityGroupIds",
            ["default"],
        ),
        *refused(
            "Placement",
            "placement groups, hosts and tenancy are not modelled; the subnet places it",
            {"Tenancy": "dedicated"},
            lambda v: v is None or v in ({}, {"Tenancy": "default"}),
            "Tenancy default",
        ),
        *refused(
            "NetworkInterfaces",
            "network interfaces are not modelled; give SubnetId",
            [{"DeviceIndex": 0, "SubnetId": "subnet-1"}],
        ),
        *refused("PrivateIpAddress", "the subnet hands out the address", "10.0.1.99"),
        *refused("Ipv6AddressCount", _IPV6, 1, one_of(0), "0"),
        *refused("Ipv6Addresses", _IPV6, [{"Ipv6Address": "2600:1f18::1"}]),
        *refused("EnablePrimaryIpv6", _IPV6, True, one_of(False), "false"),
        *refused("KernelId", "the AMI's kernel is not modelled", "aki-12345678"),
        *refused("RamdiskId", "the AMI's RAM disk is not modelled", "ari-12345678"),
        *refused(
            "LaunchTemplate",
            "launch templates are not modelled; give the instance's parameters",
            {"LaunchTemplateName": "ecs"},
        ),
        *refused(
            "InstanceMarketOptions",
            "Spot Instances (and their interruptions) are not modelled",
            {"MarketType": "spot"},
        ),
        *refused(
            "CreditSpecification",
            "burstable CPU credits are not modelled",
            {"CpuCredits": "unlimited"},
        ),
        *refused("CpuOptions", "an instance has its type's CPUs", {"CoreCount": 1}),
        *refused(
            "CapacityReservationSpecification",
            "capacity reservations are not modelled",
            {"CapacityReservationPreference": "none"},
        ),
        *refused(
            "HibernationOptions",
            "hibernation is not modelled",
            {"Configured": True},
            off("Configured"),
            "Configured false",
        ),
        *refused(
            "EnclaveOptions",
            "Nitro Enclaves are not modelled",
            {"Enabled": True},
            off("Enabled"),
            "Enabled false",
        ),
        *refused(
            "LicenseSpecifications",
            "license configurations are not modelled",
            [{"LicenseConfigurationArn": "arn:aws:license-manager:us-east-1:1:lc/1"}],
        ),
        *refused(
            "ElasticGpuSpecification", "Elastic Graphics are not modelled", [{"Type": "eg1.medium"}]
        ),
        *refused(
            "ElasticInferenceAccelerators",
            "Elastic Inference accelerators are not modelled",
            [{"Type": "eia1.medium"}],
        ),
        *refused(
            "PrivateDnsNameOptions",
            "instance host names are not modelled",
            {"HostnameType": "resource-name"},
        ),
        *refused(
            "MaintenanceOptions",
            "automatic recovery is not modelled",
            {"AutoRecovery": "disabled"},
        ),
        *refused(
            "NetworkPerformanceOptions",
            "network bandwidth weighting is not modelled",
            {"BandwidthWeighting": "vpc-1"},
        ),
        *refused(
            "Operator",
            "instances managed by another service are not modelled",
            {"Principal": "ecs.amazonaws.com"},
        ),
        *refused(
            "SecondaryInterfaces",
            "network interfaces are not modelled",
            [{"DeviceIndex": 1}],
        ),
        *refused(
            "DisableApiStop",
            "stop protection is not modelled",
            True,
            one_of(False),
            "false",
        ),
        *refused(
            "DisableApiTermination",
            "termination protection is not modelled: TerminateInstances would be refused",
            True,
            one_of(False),
            "false",
        ),
        *refused(
            "InstanceInitiatedShutdownBehavior",
            "a shutdown from inside the instance is not modelled",
            "terminate",
            one_of("stop"),
            "stop",
        ),
        *refused("AdditionalInfo", "reserved by EC2; ecsim has no use for it", "x"),
    ],
    "DescribeInstances": [
        *modelled("InstanceIds", "the instances answered"),
        *_DESCRIBE,
        *_PAGES,
        *_DRY_RUN,
        *no_effect(
            "IncludeManagedResources",
            "ecsim has no instances managed by another service, so the answer is the same",
        ),
    ],
    "CreateTags": [
        *modelled("Resources Tags", 'the tags (DescribeTags; docs/behaviour.md, "Tags")'),
        *_DRY_RUN,
    ],
    "DeleteTags": [*modelled("Resources Tags", "the tags removed (DescribeTags)"), *_DRY_RUN],
    "DescribeTags": [
        *modelled("Filters MaxResults NextToken", "the tags answered, by page"),
        *_DRY_RUN,
    ],
    "TerminateInstances": [
        *modelled("InstanceIds", "the instances terminate and their tasks stop"),
        *_DRY_RUN,
        *refused(
            "Force",
            "ecsim's instances always terminate at once; there is no stuck shutdown to force",
            True,
            one_of(False),
            "false",
        ),
        *refused(
            "SkipOsShutdown",
            "ecsim's instances always terminate at once, without an OS shutdown",
            True,
            one_of(False),
            "false",
        ),
    ],
}


def _error(message: str) -> AwsError:
    return ec2_error("InvalidParameterValue", message)


COVERAGE = Coverage("ec2", _error, OPERATIONS)
