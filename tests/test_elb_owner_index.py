"""`ElbBackend.load_balancer_of` answers from an index; it must agree with a scan of every
listener rule after each create, modify and delete of load balancers, listeners and rules."""

from __future__ import annotations

from ecsim.model.elbv2.resources import LoadBalancer, TargetGroup, forward_targets
from ecsim.model.world import World
from tests.support.worlds import make_lb, make_listener, make_tg


def scanned(w: World, tg: TargetGroup) -> LoadBalancer | None:
    """The answer without an index: the first load balancer with a rule forwarding to tg."""
    for lb in w.elb.load_balancers.values():
        for listener in lb.listeners.values():
            for rule in listener.ordered_rules():
                if any(arn == tg.arn for arn, _ in forward_targets(rule.actions)):
                    return lb
    return None


def agrees(w: World) -> None:
    for tg in w.elb.target_groups.values():
        assert w.elb.load_balancer_of(tg) is scanned(w, tg), tg.name


def forward(tg: str) -> list[dict[str, object]]:
    return [{"Type": "forward", "TargetGroupArn": tg}]


def test_the_owner_index_follows_every_topology_change() -> None:
    w = World(seed=2)
    lb1, lb2 = make_lb(w, "one"), make_lb(w, "two")
    a, b, c, d = (make_tg(w, name) for name in ("a", "b", "c", "d"))
    agrees(w)
    listener = make_listener(w, lb1, a)
    agrees(w)
    rule = w.elbv2.create_rule(
        ListenerArn=listener,
        Priority=5,
        Conditions=[{"Field": "path-pattern", "Values": ["/b/*"]}],
        Actions=forward(b),
    )["Rules"][0]["RuleArn"]
    agrees(w)
    w.elbv2.modify_rule(RuleArn=rule, Actions=forward(c))
    agrees(w)
    weighted = [
        {
            "Type": "forward",
            "ForwardConfig": {
                "TargetGroups": [{"TargetGroupArn": b, "Weight": 1}, {"TargetGroupArn": c}]
            },
        }
    ]
    w.elbv2.modify_rule(RuleArn=rule, Actions=weighted)
    agrees(w)
    w.elbv2.set_rule_priorities(RulePriorities=[{"RuleArn": rule, "Priority": 9}])
    agrees(w)
    other = make_listener(w, lb2, d, port=8080)
    agrees(w)
    w.elbv2.delete_listener(ListenerArn=other)
    agrees(w)
    w.elbv2.modify_listener(ListenerArn=listener, DefaultActions=forward(d))
    agrees(w)
    w.elbv2.delete_rule(RuleArn=rule)
    agrees(w)
    w.elbv2.delete_target_group(TargetGroupArn=b)
    agrees(w)
    make_listener(w, lb2, a, port=8080)
    agrees(w)
    w.elbv2.delete_load_balancer(LoadBalancerArn=lb1)
    agrees(w)
    assert w.elb.load_balancer_of(w.elb.target_groups[a]) is w.elb.load_balancers[lb2]
    w.elbv2.delete_load_balancer(LoadBalancerArn=lb2)
    agrees(w)
    assert all(w.elb.load_balancer_of(tg) is None for tg in w.elb.target_groups.values())
