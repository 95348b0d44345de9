"""Read a scenario file: YAML with line numbers (read safely and bounded: `source.py`,
`yamlnodes.py`, `limits.py`), the JSON Schema, then the checks a schema cannot make (names
that must exist, durations, conditions, operations, references, the limits). Any problem
raises ScenarioError naming the file, line and field. A good file is also built once on a
scratch world, so an AWS error in the world is reported before anything runs."""

from __future__ import annotations

import difflib
import math
from pathlib import Path as FilePath
from typing import Any

from ecsim.model.durations import parse_duration
from ecsim.model.settings import Settings
from ecsim.model.verbs.spec import ParameterError, check_param
from ecsim.model.world import World
from ecsim.scenario import limits, operations, refs, source
from ecsim.scenario.build import build
from ecsim.scenario.conditions import ConditionError, parse_condition
from ecsim.scenario.errors import ScenarioError
from ecsim.scenario.spec import Bound, Expectation, Scenario, Step, Where
from ecsim.scenario.validate import check_shape, show
from ecsim.scenario.yamlnodes import Lines, Path, field_name, read_yaml

AZS = ("us-east-1a", "us-east-1b", "us-east-1c")


def load_file(path: str | FilePath) -> Scenario:
    """The scenario in a file: a regular file of at most 1 MiB (`limits.py`), never opened
    if it is anything else (a FIFO, a device, a directory)."""
    p = FilePath(path)
    return load_text(source.read_text(p), str(p), default_name=p.stem)


def load_text(text: str, file: str = "<scenario>", default_name: str = "scenario") -> Scenario:
    data, lines = read_yaml(text, file)
    return load_data(data, lines, file, default_name)


def load_data(data: Any, lines: Lines, file: str, default_name: str = "scenario") -> Scenario:
    """The scenario in a document already read (`read_yaml`), checked as a file is: a sweep
    (ecsim.sweep) changes a value in it and has the changed document checked like this."""
    if not isinstance(data, dict):
        raise ScenarioError(
            file, lines.of(()), "(top level)", "expected a mapping with world, timeline, expect"
        )
    check_shape(data, lines, file)
    return _Checker(data, lines, file, default_name).scenario()


# Settings that are the period of a timer that repeats for the whole run.
PERIODIC = {("scheduler", "interval"), ("autoscaling", "period")}


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value >= 0


def _is_setting(value: Any, default: Any) -> bool:
    """Whether `value` can stand for the setting whose default is `default`."""
    if isinstance(default, bool):
        return isinstance(value, bool)
    if isinstance(default, int):
        return _number(value) and isinstance(value, int)
    if isinstance(default, float):
        return _number(value)
    if isinstance(default, tuple):
        return (
            isinstance(value, list)
            and len(value) == 2
            and all(_number(v) for v in value)
            and value[0] <= value[1]
        )
    return True


def _setting_kind(default: Any) -> str:
    if isinstance(default, bool):
        return "true or false"
    if isinstance(default, int):
        return "a whole number >= 0"
    if isinstance(default, float):
        return "a number >= 0"
    return "a range [low, high] of numbers >= 0"


def longest(value: Any) -> str:
    return (
        f"expected a duration of at most {limits.span(limits.MAX_DURATION)} (a scenario's "
        f"longest); got {show(value)}"
    )


def calls_message(step: Step, n: int, total: int, duration: float) -> str:
    """Why a run of `duration` makes too many calls, said at `step`."""
    return (
        f"this step runs {limits.count(n)} times in {limits.span(duration)}, which makes "
        f"{limits.count(total)} calls; expected at most {limits.count(limits.MAX_CALLS)} calls "
        "in a run (a scenario's limit): a longer `every`, or `times` or `until`"
    )


class _Checker:
    def __init__(self, data: dict[str, Any], lines: Lines, file: str, default_name: str) -> None:
        self.data = data
        self.lines = lines
        self.file = file
        self.default_name = default_name

    def fail(self, path: Path, message: str, *, key: bool = False) -> ScenarioError:
        line = self.lines.of_key(path) if key else self.lines.of(path)
        return ScenarioError(self.file, line, field_name(path), message)

    def where(self, path: Path) -> Where:
        return Where(self.file, self.lines.of(path), field_name(path))

    def duration(self, path: Path, value: Any) -> float:
        try:
            seconds = parse_duration(value)
        except ValueError as e:
            raise self.fail(path, f"expected a duration like 90s, 5m or 1h: {e}") from None
        if not math.isfinite(seconds) or seconds > limits.MAX_DURATION:
            raise self.fail(path, longest(value))
        return seconds

    # --- the whole file -------------------------------------------------------------------

    def scenario(self) -> Scenario:
        d = self.data
        settings = d.get("settings", {})
        try:
            Settings().with_overrides(settings)
        except (ValueError, TypeError) as e:
            raise self.fail(("settings",), str(e)) from None
        self.settings(settings)
        s = Scenario(
            name=d.get("name", self.default_name),
            file=self.file,
            duration=self.duration(("duration",), d["duration"]),
            world=d["world"],
            seed=d.get("seed", 0),
            summary=d.get("summary", ""),
            explanation=d.get("explanation", ""),
            start=d.get("start", "steady"),
            settings=settings,
            lines={field_name(p): line for p, line in self.lines.values.items()},
        )
        self.check_world(d["world"])
        s.steps = [*self.traffic_steps(), *self.steps()]
        self.calls(s)
        self.service_names = s.services()
        s.expectations = self.expectations(s)
        try:
            build(World(s.seed, settings=Settings().with_overrides(settings)), s)
        except ScenarioError:
            raise
        return s

    def settings(self, overrides: dict[str, Any]) -> None:
        """Each override of the type of the setting it replaces, not negative; a periodic
        timer (`PERIODIC`) no shorter than a repeated step may be."""
        defaults = Settings()
        for group, values in overrides.items():
            if not isinstance(values, dict):
                continue  # (stats_period: the schema's)
            for key, value in values.items():
                path: Path = ("settings", group, key)
                default = getattr(getattr(defaults, group), key)
                expected = _setting_kind(default)
                if not _is_setting(value, default):
                    raise self.fail(path, f"expected {expected}; got {show(value)}")
                if (group, key) in PERIODIC and value < limits.MIN_EVERY:
                    raise self.fail(
                        path,
                        f"expected a period of at least {limits.span(limits.MIN_EVERY)} (a "
                        f"scenario's shortest); got {show(value)}",
                    )

    # --- names that must exist ------------------------------------------------------------

    def unique(self, items: list[dict[str, Any]], key: str, path: Path) -> list[str]:
        seen: dict[str, int] = {}
        for i, item in enumerate(items):
            name = item[key]
            if name in seen:
                raise self.fail(
                    (*path, i, key),
                    f"{name!r} is already the name of {field_name((*path, seen[name]))}; "
                    "expected a name used once",
                )
            seen[name] = i
        return list(seen)

    def known(self, path: Path, name: str, names: list[str], what: str) -> None:
        if name in names:
            return
        close = difflib.get_close_matches(name, names, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        listed = ", ".join(names) if names else "none is defined"
        raise self.fail(path, f"unknown {what} {name!r}{hint}; expected one of: {listed}")

    def azs(self, path: Path, values: list[str]) -> None:
        for i, az in enumerate(values):
            self.known((*path, i), az, list(AZS), "Availability Zone")

    def check_world(self, world: dict[str, Any]) -> None:
        clusters: list[str] = list(world.get("clusters", []))
        for i, name in enumerate(clusters):
            if clusters.index(name) != i:
                raise self.fail(("world", "clusters", i), f"cluster {name!r} is listed twice")
        families = [td["family"] for td in world.get("task_definitions", [])]
        revisions = {f: families.count(f) for f in families}
        for i, group in enumerate(world.get("instances", [])):
            self.known(("world", "instances", i, "cluster"), group["cluster"], clusters, "cluster")
            self.azs(("world", "instances", i, "azs"), group.get("azs", []))
        tgs = self.unique(world.get("target_groups", []), "name", ("world", "target_groups"))
        lbs = world.get("load_balancers", [])
        self.unique(lbs, "name", ("world", "load_balancers"))
        rules: dict[str, Path] = {}  # a rule's name -> where it is
        for i, lb in enumerate(lbs):
            base: Path = ("world", "load_balancers", i)
            self.azs((*base, "azs"), lb.get("azs", []))
            for j, listener in enumerate(lb["listeners"]):
                lp: Path = (*base, "listeners", j)
                self.action((*lp, "default_action"), listener["default_action"], tgs)
                for k, rule in enumerate(listener.get("rules", [])):
                    if "path" not in rule and "host" not in rule:
                        raise self.fail(
                            (*lp, "rules", k), "a rule needs a condition: path, host or both"
                        )
                    self.action((*lp, "rules", k, "action"), rule["action"], tgs)
                    if "name" in rule:
                        if rule["name"] in rules:
                            raise self.fail(
                                (*lp, "rules", k, "name"),
                                f"{rule['name']!r} is already the name of "
                                f"{field_name(rules[rule['name']])}; expected a name used once",
                            )
                        rules[rule["name"]] = (*lp, "rules", k)
        alarms = self.unique(world.get("alarms", []), "name", ("world", "alarms"))
        for i, alarm in enumerate(world.get("alarms", [])):
            ap: Path = ("world", "alarms", i)
            lb_names = [lb["name"] for lb in lbs]
            self.known((*ap, "load_balancer"), alarm["load_balancer"], lb_names, "load balancer")
            if "target_group" in alarm:
                self.known((*ap, "target_group"), alarm["target_group"], tgs, "target group")
        services = world.get("services", [])
        by_cluster: dict[str, list[str]] = {}
        for i, svc in enumerate(services):
            sp: Path = ("world", "services", i)
            self.known((*sp, "cluster"), svc["cluster"], clusters, "cluster")
            names = by_cluster.setdefault(svc["cluster"], [])
            if svc["name"] in names:
                raise self.fail(
                    (*sp, "name"),
                    f"cluster {svc['cluster']!r} already has a service {svc['name']!r}",
                )
            names.append(svc["name"])
            family, _, revision = svc["task_definition"].partition(":")
            self.known((*sp, "task_definition"), family, list(revisions), "task definition family")
            if revision and (not revision.isdigit() or not 1 <= int(revision) <= revisions[family]):
                raise self.fail(
                    (*sp, "task_definition"),
                    f"{family!r} has revisions 1 to {revisions[family]}; got {svc['task_definition']!r}",
                )
            for j, tg in enumerate(svc.get("target_groups", [])):
                self.known((*sp, "target_groups", j), tg, tgs, "target group")
            watched = svc.get("deployment_alarms", [])
            watched_path: Path = (*sp, "deployment_alarms")
            if isinstance(watched, dict):
                watched, watched_path = watched["alarms"], (*watched_path, "alarms")
            for j, name in enumerate(watched):
                self.known((*watched_path, j), name, alarms, "alarm")
            self.azs((*sp, "azs"), svc.get("azs", []))
            if "deployment" in svc:
                self.deployment((*sp, "deployment"), svc, tgs, list(rules))
            if "health_check_grace_period" in svc and not svc.get("target_groups"):
                raise self.fail(
                    (*sp, "health_check_grace_period"),
                    "a health check grace period needs target_groups (AWS: only valid for "
                    "services configured to use load balancers)",
                )

    def deployment(self, path: Path, svc: dict[str, Any], tgs: list[str], rules: list[str]) -> None:
        """A service's `deployment`: its durations whole minutes, its percents multiples of
        0.1, its strategy's own block only, its target group and rules defined (AWS checks the
        rest when the world is built: docs/behaviour.md, "Blue/green, linear and canary
        deployments")."""
        spec = svc["deployment"]
        strategy = spec["strategy"]
        self.minutes((*path, "bake"), spec)
        for block, wanted in (("linear", "LINEAR"), ("canary", "CANARY")):
            if block in spec and strategy != wanted:
                raise self.fail(
                    (*path, block),
                    f"`{block}` goes with strategy {wanted}; got {strategy}",
                    key=True,
                )
            if block in spec:
                self.minutes((*path, block, "bake"), spec[block])
                self.tenths((*path, block, "percent"), spec[block])
        if strategy == "BLUE_GREEN" and "bake" not in spec:
            raise self.fail(path, "strategy BLUE_GREEN needs a bake time (bakeTimeInMinutes)")
        shifts = strategy != "ROLLING"
        own = svc.get("target_groups", [])
        if "alternate_target_group" in spec:
            where: Path = (*path, "alternate_target_group")
            self.known(where, spec["alternate_target_group"], tgs, "target group")
            if not own:
                raise self.fail(
                    where, "an alternate target group needs the service's target_groups"
                )
            if spec["alternate_target_group"] == own[0]:
                raise self.fail(
                    where,
                    f"expected a target group other than the service's own {own[0]!r} (the "
                    "group green registers in)",
                )
        for key in ("production_rule", "test_rule"):
            if key in spec:
                self.known((*path, key), spec[key], rules, "rule name")
        linked = [k for k in ("alternate_target_group", "production_rule") if k in spec]
        if len(linked) == 1 or ("test_rule" in spec and not linked):
            raise self.fail(
                path,
                "alternate_target_group and production_rule go together "
                "(advancedConfiguration), and test_rule with them",
            )
        if shifts and own and not linked:
            raise self.fail(
                path,
                f"strategy {strategy} behind a load balancer needs alternate_target_group and "
                "production_rule (advancedConfiguration)",
            )
        if not shifts and "hooks" in spec:
            raise self.fail(
                (*path, "hooks"),
                "lifecycle hooks need strategy BLUE_GREEN, LINEAR or CANARY",
                key=True,
            )
        for i, hook in enumerate(spec.get("hooks", [])):
            if "timeout" in hook:
                minutes = self.minutes((*path, "hooks", i, "timeout"), hook)
                if minutes is not None and minutes < 1:
                    raise self.fail(
                        (*path, "hooks", i, "timeout"),
                        f"expected at least 1m (timeoutInMinutes); got {show(hook['timeout'])}",
                    )

    def minutes(self, path: Path, block: dict[str, Any]) -> int | None:
        """The whole minutes of the duration at `path`'s last key in `block`, if given."""
        key = str(path[-1])
        if key not in block:
            return None
        seconds = self.duration(path, block[key])
        if seconds % 60:
            raise self.fail(
                path, f"expected whole minutes, as AWS takes them (5m, 1h); got {show(block[key])}"
            )
        return int(seconds // 60)

    def tenths(self, path: Path, block: dict[str, Any]) -> None:
        value = block.get(str(path[-1]))
        if value is not None and abs(value * 10 - round(value * 10)) > 1e-6:
            raise self.fail(path, f"expected a multiple of 0.1, as AWS takes it; got {show(value)}")

    def action(self, path: Path, action: dict[str, Any], tgs: list[str]) -> None:
        forward = action.get("forward")
        if isinstance(forward, str):
            self.known((*path, "forward"), forward, tgs, "target group")
        elif isinstance(forward, list):
            for i, f in enumerate(forward):
                self.known(
                    (*path, "forward", i, "target_group"), f["target_group"], tgs, "target group"
                )

    # --- the timeline ---------------------------------------------------------------------

    def traffic_steps(self) -> list[Step]:
        out = []
        lbs = [lb["name"] for lb in self.data["world"].get("load_balancers", [])]
        for i, t in enumerate(self.data.get("traffic", [])):
            path: Path = ("traffic", i)
            lb = t.get("load_balancer")
            if lb is None:
                if len(lbs) != 1:
                    raise self.fail(
                        path,
                        "expected a load_balancer: "
                        + ("the world has none" if not lbs else f"the world has {', '.join(lbs)}"),
                    )
                lb = lbs[0]
            else:
                self.known((*path, "load_balancer"), lb, lbs, "load balancer")
            args: dict[str, Any] = {"rps": t["rate"], "load_balancer": lb}
            if "paths" in t:
                args["paths"] = t["paths"]
            out.append(
                Step(
                    do="traffic.set_rate",
                    args=args,
                    where=self.where(path),
                    at=self.duration((*path, "at"), t.get("at", 0)),
                )
            )
        return out

    def steps(self) -> list[Step]:
        out: list[Step] = []
        names: dict[str, int] = {}
        for i, raw in enumerate(self.data.get("timeline", [])):
            path: Path = ("timeline", i)
            do = raw["do"]
            try:
                operations.check(do)
            except operations.UnknownOperationError as e:
                raise self.fail((*path, "do"), str(e)) from None
            if ("at" in raw) == ("every" in raw):
                raise self.fail(path, "expected exactly one of `at` (once) or `every` (repeated)")
            if "at" in raw:
                for extra in ("from", "until", "times"):
                    if extra in raw:
                        raise self.fail(
                            (*path, extra), f"`{extra}` goes with `every`, not with `at`", key=True
                        )
            written = raw.get("with", {})
            self.parameters((*path, "with"), do, written)
            args = self.seconds((*path, "with"), do, written)
            if "expect_error" not in raw:  # a step may mean to be refused
                self.values((*path, "with"), do, written, args)
            name = raw.get("name")
            if name is not None:
                if name in names:
                    raise self.fail(
                        (*path, "name"),
                        f"{name!r} already names timeline[{names[name]}]; expected a unique name",
                    )
                names[name] = i
            every = self.duration((*path, "every"), raw["every"]) if "every" in raw else None
            if every is not None and every < limits.MIN_EVERY:
                raise self.fail(
                    (*path, "every"),
                    f"expected a period of at least {limits.span(limits.MIN_EVERY)} (a "
                    f"scenario's shortest); got {show(raw['every'])}",
                )
            out.append(
                Step(
                    do=do,
                    args=args,
                    where=self.where(path),
                    at=self.duration((*path, "at"), raw["at"]) if "at" in raw else None,
                    every=every,
                    start=self.duration((*path, "from"), raw.get("from", 0)),
                    until=self.duration((*path, "until"), raw["until"]) if "until" in raw else None,
                    times=raw.get("times"),
                    name=name,
                    expect_error=raw.get("expect_error"),
                    note=raw.get("note"),
                )
            )
        self.step_names = list(names)
        return out

    def calls(self, s: Scenario) -> None:
        """At most `limits.MAX_CALLS` calls in a run, refused at the step that passes it."""
        found = s.too_many_calls(s.duration)
        if found is not None:
            where = found[0].where
            raise ScenarioError(
                where.file, where.line, where.field, calls_message(*found, s.duration)
            )

    def parameters(self, path: Path, do: str, args: dict[str, Any]) -> None:
        allowed = operations.parameters(do)
        if allowed is not None:
            for key in args:
                if key not in allowed:
                    close = difflib.get_close_matches(key, allowed, n=1)
                    hint = f" (did you mean {close[0]!r}?)" if close else ""
                    raise self.fail(
                        (*path, key),
                        f"{do} has no parameter {key!r}{hint}; expected: {', '.join(allowed)}",
                        key=True,
                    )
            for key in operations.required_parameters(do):
                if key not in args:
                    raise self.fail(path, f"{do} needs the parameter {key!r}")
        self.references(path, args)

    def seconds(self, path: Path, do: str, args: dict[str, Any]) -> dict[str, Any]:
        """The call's parameters with its durations (`duration: 2m`, `delay: 200ms`) in
        seconds, as the model takes them."""
        keys = [k for k in operations.DURATIONS.get(do, ()) if k in args]
        if not keys:
            return args
        out = dict(args)
        for key in keys:
            seconds = self.duration((*path, key), args[key])
            out[key] = int(seconds) if seconds == int(seconds) else seconds
        return out

    def values(self, path: Path, do: str, written: dict[str, Any], args: dict[str, Any]) -> None:
        """Each value given to one of ecsim's own verbs within its declared limits
        (model/verbs/catalog.py), as the call itself will check them; a `${...}` reference is
        checked when the step runs."""
        verb = operations.verb(do)
        if verb is None:
            return
        for key, value in args.items():
            if isinstance(value, str) and value.startswith("${"):
                continue
            try:
                check_param(verb, key, value)
            except ParameterError as e:
                raise self.fail(
                    (*path, key), f"{do}: {key} must be {e.must}; got {show(written[key])}"
                ) from None

    def references(self, path: Path, value: Any) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                self.references((*path, k), v)
        elif isinstance(value, list):
            for i, v in enumerate(value):
                self.references((*path, i), v)
        elif isinstance(value, str):
            try:
                ref = refs.parse(value)
            except refs.RefError as e:
                raise self.fail(path, str(e)) from None
            if ref is None:
                return
            kind, args = ref
            world = self.data["world"]
            names = {
                "target-group": [t["name"] for t in world.get("target_groups", [])],
                "load-balancer": [lb["name"] for lb in world.get("load_balancers", [])],
                "listener": [lb["name"] for lb in world.get("load_balancers", [])],
                "instance": list(world.get("clusters", [])),
                "subnet": list(AZS),
                "task-definition": [td["family"] for td in world.get("task_definitions", [])],
            }
            if kind in names:
                self.known(path, args[0].split(":")[0], names[kind], kind.replace("-", " "))

    # --- expectations ---------------------------------------------------------------------

    def bound(self, path: Path, value: Any) -> Bound:
        if isinstance(value, str) and (value == "end" or value in self.step_names):
            return value
        if isinstance(value, str) and value and not value[0].isdigit():
            self.known(path, value, [*self.step_names, "end"], "step name")
        return self.duration(path, value)

    def expectations(self, s: Scenario) -> list[Expectation]:
        out = []
        for i, raw in enumerate(self.data.get("expect", [])):
            path: Path = ("expect", i)
            timing = [k for k in ("at", "between", "within") if k in raw]
            if len(timing) > 1:
                raise self.fail(
                    (*path, timing[1]),
                    f"expected one of at, between or within; got {' and '.join(timing)}",
                    key=True,
                )
            if ("within" in raw) != ("of" in raw):
                missing = "of" if "within" in raw else "within"
                raise self.fail(
                    path,
                    f"`within` and `of` go together (within 2m of <step name>); missing {missing!r}",
                )
            if "of" in raw:
                self.known((*path, "of"), raw["of"], self.step_names, "step name")
            condition = None
            if "that" in raw:
                try:
                    condition = parse_condition(raw["that"])
                except ConditionError as e:
                    raise self.fail((*path, "that"), str(e)) from None
                self.subject((*path, "that"), condition.kind, condition.subject, s)
                if condition.kind == "traffic" and "at" in raw:
                    raise self.fail(
                        (*path, "at"),
                        f"{condition.metric} is counted over a window: use between or within, not at",
                        key=True,
                    )
                if "service" in raw:
                    raise self.fail((*path, "service"), "`service` goes with `event`", key=True)
            elif "service" in raw:
                self.known((*path, "service"), raw["service"], self.service_names, "service")
            between = None
            if "between" in raw:
                a, b = raw["between"]
                between = (
                    self.bound((*path, "between", 0), a),
                    self.bound((*path, "between", 1), b),
                )
            out.append(
                Expectation(
                    text=self.text(raw),
                    where=self.where(path),
                    condition=condition,
                    event=raw.get("event"),
                    service=raw.get("service"),
                    at=self.duration((*path, "at"), raw["at"]) if "at" in raw else None,
                    between=between,
                    within=self.duration((*path, "within"), raw["within"])
                    if "within" in raw
                    else None,
                    of=raw.get("of"),
                    note=raw.get("note"),
                )
            )
        return out

    def subject(self, path: Path, kind: str, subject: str | None, s: Scenario) -> None:
        names = {
            "service": s.services(),
            "target_group": s.target_groups(),
            "traffic": s.load_balancers(),
        }[kind]
        what = {"service": "service", "target_group": "target group", "traffic": "load balancer"}[
            kind
        ]
        if subject is None:
            if kind != "traffic" and len(names) != 1:
                raise self.fail(
                    path,
                    f"expected the {what} in parentheses, one of: {', '.join(names) or 'none'}",
                )
            return
        self.known(path, subject, names, what)

    @staticmethod
    def text(raw: dict[str, Any]) -> str:
        head = raw["that"] if "that" in raw else f"service event {raw['event']!r}"
        if "service" in raw:
            head += f" of {raw['service']}"
        if "at" in raw:
            return f"{head} at {raw['at']}"
        if "between" in raw:
            return f"{head} between {raw['between'][0]} and {raw['between'][1]}"
        if "within" in raw:
            return f"{head} within {raw['within']} of {raw['of']}"
        return f"{head} over the whole run"
