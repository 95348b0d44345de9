"""No other web page drives the server (issue 12, point 3): the guard of the main port
(src/ecsim/awsapi/guard.py) against a live `ecsim serve` on 127.0.0.1, with the clients an
attacker's page would use (a WebSocket, a form, a `fetch` in no-cors mode), with foreign `Host`s
(DNS rebinding), and from a real Chromium page served on another local port; boto3, the AWS CLI
and curl-like clients (no `Origin`, no `Sec-Fetch-Site`) keep working."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError
from click.testing import CliRunner
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from ecsim.awsapi import Policy
from ecsim.awsapi.guard import normalize_origin, split_host
from ecsim.cli.main import main
from tests.support.browser import CHROMIUM, launch
from tests.support.ports import free_port
from tests.support.server import LiveServer, Serve, aws_cli, wait_for

pytestmark = pytest.mark.server(world="demo", rate=1.0, speed=60)

EVIL = "http://evil.example"
TOOL = "http://localhost:3000"  # an origin the user allows (`--allow-origin`)
ELBV2 = "2015-12-01"
EC2 = "2016-11-15"


# --- helpers ------------------------------------------------------------------------------


def port_of(server: LiveServer) -> int:
    return int(server.url.rsplit(":", 1)[1])


def paused(server: LiveServer) -> bool:
    return bool(httpx.get(f"{server.url}/ecsim/api/status").json()["paused"])


def resume(server: LiveServer) -> None:
    assert httpx.post(f"{server.url}/ecsim/api/time/resume", json={}).status_code == 200


def controller(server: LiveServer) -> str:
    def status(w: Any) -> str:
        svc = w.ecs.describe_services(cluster="home", services=["home-service"])["services"][0]
        return str(svc["controllerStatus"])

    return server.call(status)


def target_groups(server: LiveServer) -> set[str]:
    return server.call(
        lambda w: {g["TargetGroupName"] for g in w.elbv2.describe_target_groups()["TargetGroups"]}
    )


def security_groups(server: LiveServer) -> set[str]:
    return server.call(
        lambda w: {g["GroupName"] for g in w.ec2.describe_security_groups()["SecurityGroups"]}
    )


def vpc(server: LiveServer) -> str:
    return server.call(lambda w: str(w.ec2.describe_vpcs()["Vpcs"][0]["VpcId"]))


def ws_url(server: LiveServer) -> str:
    return server.url.replace("http://", "ws://") + "/ecsim/ui/ws"


def ws_command(server: LiveServer, origin: str | None, cmd: str = "pause") -> str:
    """Open the page's WebSocket with `origin` (None: none, as a non-browser client), send a
    command; its answer's type, or `refused <status>: <body>` for a refused handshake."""

    async def run() -> str:
        try:
            async with connect(
                ws_url(server), origin=origin, max_size=None, proxy=None, open_timeout=10
            ) as ws:  # type: ignore[arg-type]
                await ws.recv()  # the snapshot
                await ws.send(json.dumps({"id": 7, "cmd": cmd, "args": {}}))
                while True:
                    message = json.loads(await asyncio.wait_for(ws.recv(), 10))
                    if message.get("id") == 7:
                        return str(message["type"])
        except InvalidStatus as e:
            return f"refused {e.response.status_code}: {bytes(e.response.body).decode()}"

    return asyncio.run(run())


def raw_handshake(server: LiveServer, host: str, origin: str | None = None) -> int:
    """The HTTP status of a WebSocket handshake naming `host` (a real client cannot lie about
    its Host; a browser fooled by DNS rebinding sends the attacker's name)."""
    with socket.create_connection(("127.0.0.1", port_of(server)), timeout=10) as s:
        lines = [
            "GET /ecsim/ui/ws HTTP/1.1",
            f"Host: {host}",
            "Upgrade: websocket",
            "Connection: Upgrade",
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
            "Sec-WebSocket-Version: 13",
            *([f"Origin: {origin}"] if origin else []),
        ]
        s.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        return int(s.recv(4096).split()[1])


def xml_code(body: bytes) -> str:
    code = ET.fromstring(body).find(".//{*}Code")
    if code is None:
        code = ET.fromstring(body).find(".//Code")
    assert code is not None, body
    return str(code.text)


# --- the policy itself --------------------------------------------------------------------


def test_hosts_accepted_for_a_loopback_bind() -> None:
    p = Policy.of("127.0.0.1")
    for host in ("127.0.0.1:8000", "localhost:8000", "LOCALHOST.:8000", "[::1]:8000"):
        assert p.host_refusal(host, 8000) is None, host
    assert p.host_refusal(None, 8000) is None  # HTTP/1.0 without a Host: not a browser
    for host in (
        "evil.example:8000",
        "127.0.0.1.nip.io:8000",
        "10.0.0.5:8000",  # another address: not this server's
        "127.0.0.1:8001",  # another port
        "localhost",  # port 80
        "localhost:8000/x",
        "",
    ):
        assert p.host_refusal(host, 8000) is not None, host
    assert "--allow-host evil.example:8000" in str(p.host_refusal("evil.example:8000", 8000))


def test_hosts_accepted_for_other_binds_and_allow_host() -> None:
    lan = Policy.of("192.168.1.20")
    assert lan.host_refusal("192.168.1.20:8000", 8000) is None
    assert lan.host_refusal("localhost:8000", 8000) is None
    assert lan.host_refusal("192.168.1.21:8000", 8000) is not None
    named = Policy.of("mybox.lan")
    assert named.host_refusal("MyBox.lan:8000", 8000) is None
    # --host 0.0.0.0: exposed on purpose; any IP address (a rebinding attack carries a name)
    # and the machine's own name
    anywhere = Policy.of("0.0.0.0")
    assert anywhere.wildcard
    for host in ("10.1.2.3:8000", "[fe80::1]:8000", f"{socket.gethostname()}:8000"):
        assert anywhere.host_refusal(host, 8000) is None, host
    if "." not in socket.gethostname():  # its mDNS name
        assert anywhere.host_refusal(f"{socket.gethostname()}.local:8000", 8000) is None
    assert anywhere.host_refusal("evil.example:8000", 8000) is not None
    assert anywhere.host_refusal("10.1.2.3:9000", 8000) is not None
    assert "any IP address" in anywhere.accepted_hosts()
    # --allow-host: a name on any port (port mappings, proxies), or on one port; '*': any
    proxied = Policy.of("127.0.0.1", allow_hosts=("ecsim.test", "Box.Example:9000"))
    assert proxied.host_refusal("ecsim.test", 8000) is None
    assert proxied.host_refusal("ecsim.test:443", 8000) is None
    assert proxied.host_refusal("box.example:9000", 8000) is None
    assert proxied.host_refusal("box.example:9001", 8000) is not None
    assert Policy.of(allow_hosts=("*",)).host_refusal("anything.example", 8000) is None


def test_origins_and_fetch_metadata() -> None:
    p = Policy.of(allow_origins=(TOOL + "/",))
    own = "http://127.0.0.1:8000"
    assert p.origin_refusal(None, None, own) is None  # boto3, the AWS CLI, curl
    assert p.origin_refusal(own, "same-origin", own) is None
    assert p.origin_refusal("http://127.0.0.1:8000", None, own) is None
    assert p.origin_refusal(None, "same-origin", own) is None
    assert p.origin_refusal(None, "none", own) is None  # typed by the user
    assert p.origin_refusal("http://LOCALHOST:3000", "same-site", own) is None  # allowed
    for origin, site in (
        (EVIL, "cross-site"),
        (EVIL, None),
        ("null", "cross-site"),
        ("http://127.0.0.1:8001", "same-site"),  # another local port is another origin
        ("https://127.0.0.1:8000", "same-site"),
        (None, "cross-site"),
        (None, "same-site"),
    ):
        assert p.origin_refusal(origin, site, own) is not None, (origin, site)
    assert normalize_origin("HTTP://Example.COM:80/") == "http://example.com"
    assert normalize_origin("http://[::1]:3000") == "http://[::1]:3000"
    assert split_host("[::1]:3000") == ("::1", 3000)


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--allow-origin", "null"),
        ("--allow-origin", "*"),
        ("--allow-origin", "http://x.example/path"),
        ("--allow-origin", "ftp://x.example"),
        ("--allow-host", "a b"),
        ("--allow-host", "x.example:99999"),
    ],
)
def test_bad_options_are_refused_before_serving(option: str, value: str) -> None:
    result = CliRunner().invoke(main, ["serve", "--port", "1", option, value])
    assert result.exit_code == 2, result.output
    assert "Invalid value" in result.output


# --- the WebSocket ------------------------------------------------------------------------


def test_a_websocket_from_another_origin_is_refused_before_any_command(
    server: LiveServer,
) -> None:
    for origin in (EVIL, "null", "http://127.0.0.1:1", "http://localhost:" + str(port_of(server))):
        answer = ws_command(server, origin)
        assert answer.startswith("refused 403: ecsim refused this request: it comes from"), (
            origin,
            answer,
        )
        assert not paused(server)


def test_the_pages_own_origin_and_non_browser_clients_keep_the_websocket(
    server: LiveServer,
) -> None:
    try:
        assert ws_command(server, server.url) == "result"
        assert paused(server)
    finally:
        resume(server)
    try:
        assert ws_command(server, None) == "result"  # websocat, a script: no Origin
        assert paused(server)
    finally:
        resume(server)


@pytest.mark.server(world="demo", rate=1.0, speed=60, allow_origins=(TOOL,))
def test_allow_origin_lets_that_page_drive_the_server(server: LiveServer) -> None:
    try:
        assert ws_command(server, TOOL) == "result"
        assert paused(server)
    finally:
        resume(server)
    assert ws_command(server, EVIL).startswith("refused 403")
    headers = {"Origin": TOOL, "Sec-Fetch-Site": "same-site"}
    r = httpx.post(f"{server.url}/ecsim/api/time/pause", json={}, headers=headers)
    try:
        assert r.status_code == 200 and r.headers["access-control-allow-origin"] == TOOL
    finally:
        resume(server)
    preflight = httpx.options(
        f"{server.url}/ecsim/api/time/pause",
        headers={
            "Origin": TOOL,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == TOOL
    evil = httpx.options(
        f"{server.url}/ecsim/api/time/pause",
        headers={"Origin": EVIL, "Access-Control-Request-Method": "POST"},
    )
    assert "access-control-allow-origin" not in evil.headers


# --- state-changing requests from another site --------------------------------------------


def test_text_plain_posts_from_another_site_are_refused(server: LiveServer) -> None:
    other_port = f"http://127.0.0.1:{port_of(server) + 1}"
    for headers in (
        {"Origin": EVIL, "Sec-Fetch-Site": "cross-site"},
        {"Origin": other_port, "Sec-Fetch-Site": "same-site"},  # another local server
        {"Origin": "null"},  # a sandboxed frame, a file:// page
        {"Sec-Fetch-Site": "cross-site"},
    ):
        r = httpx.post(
            f"{server.url}/ecsim/api/time/pause",
            content=b"{}",
            headers={"Content-Type": "text/plain", **headers},
        )
        assert r.status_code == 403, (headers, r.text)
        assert r.json()["code"] == "AccessDenied"
        assert "another site" in r.json()["message"]
        assert not paused(server)
    r = httpx.post(
        f"{server.url}/ecsim/ui/command",
        content=json.dumps({"cmd": "scheduler", "args": {"action": "crash"}}).encode(),
        headers={"Content-Type": "text/plain", "Origin": EVIL, "Sec-Fetch-Site": "cross-site"},
    )
    assert r.status_code == 403 and r.json()["type"] == "error"
    assert controller(server) == "ACTIVE"


def test_form_posts_of_aws_actions_from_another_site_are_refused(server: LiveServer) -> None:
    browser = {"Origin": EVIL, "Sec-Fetch-Site": "cross-site"}
    form = {
        "Action": "CreateTargetGroup",
        "Version": ELBV2,
        "Name": "evil-tg",
        "Protocol": "HTTP",
        "Port": "80",
        "VpcId": vpc(server),
    }
    r = httpx.post(f"{server.url}/", data=form, headers=browser)
    assert r.status_code == 403 and xml_code(r.content) == "AccessDenied"
    assert "elasticloadbalancing" in r.text
    r = httpx.post(
        f"{server.url}/",
        data={"Action": "CreateSecurityGroup", "Version": EC2, "GroupName": "evil-sg"},
        headers={"Origin": "null"},
    )
    assert r.status_code == 403 and xml_code(r.content) == "UnauthorizedOperation"
    r = httpx.post(
        f"{server.url}/",
        content=b"{}",
        headers={
            **browser,
            "X-Amz-Target": "AmazonEC2ContainerServiceV20141113.DeleteCluster",
            "Content-Type": "text/plain",
        },
    )
    assert r.status_code == 403 and r.json()["__type"] == "AccessDeniedException"
    assert "evil-tg" not in target_groups(server)
    assert "evil-sg" not in security_groups(server)


def test_same_origin_and_non_browser_posts_keep_working(server: LiveServer) -> None:
    own = {"Origin": server.url, "Sec-Fetch-Site": "same-origin"}
    for headers in ({}, own, {"Sec-Fetch-Site": "same-origin"}, {"Origin": server.url}):
        r = httpx.post(f"{server.url}/ecsim/api/time/pause", json={}, headers=headers)
        try:
            assert r.status_code == 200, (headers, r.text)
            assert paused(server)
        finally:
            resume(server)
    # curl's own form body: `curl -X POST .../ecsim/api/... -d '{...}'`
    r = httpx.post(
        f"{server.url}/ecsim/api/traffic/rate",
        content=b'{"rps": 1}',
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 200, r.text


def test_boto3_and_the_aws_cli_keep_working(server: LiveServer, tmp_path: Path) -> None:
    ecs, elbv2, ec2 = (server.client(s) for s in ("ecs", "elbv2", "ec2"))
    assert ecs.list_clusters()["clusterArns"][0].endswith(":cluster/home")
    arn = elbv2.create_target_group(
        Name="sdk-tg", Protocol="HTTP", Port=80, VpcId=vpc(server), TargetType="ip"
    )["TargetGroups"][0]["TargetGroupArn"]
    elbv2.delete_target_group(TargetGroupArn=arn)
    group = ec2.create_security_group(GroupName="sdk-sg", Description="d", VpcId=vpc(server))
    assert group["GroupId"].startswith("sg-")
    with pytest.raises(ClientError, match="ClusterNotFoundException"):
        ecs.delete_cluster(cluster="nope")
    out = aws_cli(server, tmp_path, "ecs", "list-clusters")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["clusterArns"][0].endswith(":cluster/home")
    out = aws_cli(server, tmp_path, "elbv2", "describe-load-balancers")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["LoadBalancers"][0]["LoadBalancerName"] == "home-alb"


# --- Host (DNS rebinding) -----------------------------------------------------------------


def test_a_foreign_host_is_refused_on_every_face(server: LiveServer) -> None:
    port = port_of(server)
    for host in (f"evil.example:{port}", "rebind.evil.example", f"127.0.0.1:{port + 1}"):
        r = httpx.get(f"{server.url}/", headers={"Host": host})
        assert r.status_code == 421 and "Host header" in r.text, host
        r = httpx.get(f"{server.url}/ecsim/api/status", headers={"Host": host})
        assert r.status_code == 421 and r.json()["code"] == "AccessDenied"
        r = httpx.post(f"{server.url}/ecsim/api/time/pause", json={}, headers={"Host": host})
        assert r.status_code == 421
        r = httpx.post(
            f"{server.url}/",
            data={"Action": "DescribeLoadBalancers", "Version": ELBV2},
            headers={"Host": host},
        )
        assert r.status_code == 421 and xml_code(r.content) == "AccessDenied"
        assert raw_handshake(server, host) == 421
    assert not paused(server)
    for host in (f"localhost:{port}", f"127.0.0.1:{port}", f"[::1]:{port}"):
        assert httpx.get(f"{server.url}/", headers={"Host": host}).status_code == 200, host
        assert raw_handshake(server, host, origin=f"http://{host}") == 101, host


def test_an_sdk_reaching_the_server_by_another_name_gets_a_clear_aws_error(
    server: LiveServer,
) -> None:
    """E.g. an /etc/hosts name the server was not told about (`--allow-host`)."""
    for service, call, code in (
        ("ecs", "list_clusters", "AccessDeniedException"),
        ("elbv2", "describe_load_balancers", "AccessDenied"),
        ("ec2", "describe_vpcs", "UnauthorizedOperation"),
    ):
        client = server.client(service)

        def rename(request: Any, **_: Any) -> None:
            request.headers["Host"] = "ecsim.example:8000"

        client.meta.events.register("before-send", rename)
        with pytest.raises(ClientError) as e:
            getattr(client, call)()
        assert e.value.response["Error"]["Code"] == code
        assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 421
        assert "--allow-host ecsim.example:8000" in e.value.response["Error"]["Message"]


@pytest.mark.server(world="demo", rate=1.0, speed=60, allow_hosts=("ecsim.test",))
def test_allow_host_adds_a_name(server: LiveServer) -> None:
    r = httpx.get(f"{server.url}/ecsim/api/status", headers={"Host": "ecsim.test:8443"})
    assert r.status_code == 200
    assert raw_handshake(server, "ecsim.test", origin="http://ecsim.test") == 101
    r = httpx.get(f"{server.url}/ecsim/api/status", headers={"Host": "evil.example"})
    assert r.status_code == 421


def test_the_alb_port_answers_any_host_and_origin_like_a_real_alb(server: LiveServer) -> None:
    """The ALB's port is for load tools: it changes nothing but the request counts, and a
    real ALB answers whatever Host and Origin a client sends."""
    assert httpx.get(f"{server.alb_url}/").status_code == 200  # curl http://127.0.0.1:8080/
    r = httpx.get(f"{server.alb_url}/", headers={"Host": "shop.example.com"})
    assert r.status_code == 200 and r.json()["path"] == "/"
    r = httpx.post(
        f"{server.alb_url}/cart",
        content=b"x",
        headers={"Origin": EVIL, "Sec-Fetch-Site": "cross-site", "Content-Type": "text/plain"},
    )
    assert r.status_code == 200


# --- ecsim serve itself -------------------------------------------------------------------


def test_ecsim_serve_wires_the_guard_and_its_options() -> None:
    port = free_port()
    command = "from ecsim.cli.main import main; main()"
    args = ["serve", "--port", str(port), "--speed", "60"]
    args += ["--allow-origin", TOOL, "--allow-host", "ecsim.test"]
    proc = subprocess.Popen(
        [sys.executable, "-c", command, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        assert proc.stdout is not None
        banner = proc.stdout.readline() + proc.stdout.readline()
        assert "ecsim.test" in banner and TOOL in banner, banner
        deadline = time.monotonic() + 30
        while True:
            try:
                status = httpx.get(f"{url}/ecsim/api/status", timeout=5)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "ecsim serve did not open its port"
                time.sleep(0.1)
        assert status.status_code == 200
        server = LiveServer.__new__(LiveServer)  # only its url, for the helpers
        server.url = url
        assert ws_command(server, EVIL).startswith("refused 403")
        assert not paused(server)
        assert ws_command(server, TOOL) == "result"
        assert paused(server)
        resume(server)
        assert httpx.get(f"{url}/", headers={"Host": "ecsim.test"}).status_code == 200
        assert httpx.get(f"{url}/", headers={"Host": "evil.example"}).status_code == 421
        r = httpx.post(
            f"{url}/ecsim/api/time/pause",
            content=b"{}",
            headers={"Content-Type": "text/plain", "Origin": EVIL},
        )
        assert r.status_code == 403 and not paused(server)
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        if proc.stdout is not None:
            proc.stdout.close()


# --- a real Chromium page on another local port -------------------------------------------


ATTACK = """<!doctype html>
<html><body>
<iframe name="f1"></iframe><iframe name="f2"></iframe>
<form id="aws" method="POST" action="{target}/" target="f1">
  <input name="Action" value="CreateTargetGroup"><input name="Version" value="2015-12-01">
  <input name="Name" value="evil-tg"><input name="Protocol" value="HTTP">
  <input name="Port" value="80"><input name="VpcId" value="{vpc}">
</form>
<form id="ui" method="POST" enctype="text/plain" action="{target}/ecsim/ui/command" target="f2">
  <input name='{{"cmd": "speed", "args": {{"speed": 7}}, "x": "' value='"}}'>
</form>
<script>
window.done = {{}};
const ws = new WebSocket("{ws}");
ws.onopen = () => {{
  window.done.wsOpened = true;
  ws.send(JSON.stringify({{id: 1, cmd: "scheduler", args: {{action: "crash"}}}}));
}};
ws.onmessage = e => {{
  const m = JSON.parse(e.data);
  if (m.id === 1) window.done.ws = "answered " + m.type;
}};
ws.onclose = () => {{ window.done.ws = window.done.ws || "closed"; }};
const sent = [];
sent.push(fetch("{target}/ecsim/api/time/pause", {{
  method: "POST", mode: "no-cors", headers: {{"Content-Type": "text/plain"}}, body: "{{}}"
}}));
sent.push(fetch("{target}/", {{
  method: "POST", mode: "no-cors",
  body: new URLSearchParams({{Action: "CreateSecurityGroup", Version: "2016-11-15",
                             GroupName: "evil-sg", GroupDescription: "evil"}})
}}));
Promise.all(sent).then(rs => window.done.fetch = rs.map(r => r.type).join(),
                       e => window.done.fetch = "error " + e);
window.addEventListener("load", () => {{  // one form after the other, each into its frame
  document.querySelector("iframe[name=f1]").onload = () => {{
    window.done.forms = 1;
    document.getElementById("ui").submit();
  }};
  document.querySelector("iframe[name=f2]").onload = () => {{ window.done.forms = 2; }};
  document.getElementById("aws").submit();
}});
</script>
</body></html>"""


class AttackerSite:
    """A page of another site: a plain HTTP server on its own 127.0.0.1 port."""

    def __init__(self) -> None:
        self.html = b""
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(site.html)))
                self.end_headers()
                self.wfile.write(site.html)

            def log_message(self, *_: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = int(self.httpd.server_address[1])
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def aim(self, server: LiveServer) -> None:
        self.html = ATTACK.format(target=server.url, ws=ws_url(server), vpc=vpc(server)).encode()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def attacker() -> Iterator[AttackerSite]:
    site = AttackerSite()
    yield site
    site.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = launch(p)
        yield b
        b.close()


def visit(browser: Any, url: str, server: LiveServer) -> tuple[dict[str, Any], list[Any]]:
    """Open the attacker's page; what its script saw, and the (path, status) of each POST it
    made to the server (the browser's own network record)."""
    page = browser.new_page()
    statuses: list[tuple[str, int]] = []
    console: list[str] = []

    def record(response: Any) -> None:
        if response.url.startswith(server.url) and response.request.method == "POST":
            statuses.append((response.url.removeprefix(server.url), response.status))

    page.on("response", record)
    page.on("console", lambda m: console.append(m.text))
    failed: list[str] = []
    page.on("requestfailed", lambda r: failed.append(f"{r.method} {r.url} {r.failure}"))
    try:
        page.goto(url)
        page.wait_for_function(
            "() => window.done.ws && window.done.fetch && window.done.forms === 2", timeout=30_000
        )
        try:
            wait_for(lambda: len(statuses) >= 4, 30)
        except AssertionError:
            raise AssertionError(f"the POSTs answered: {statuses}; failed: {failed}") from None
        seen: dict[str, Any] = page.evaluate("() => window.done")
    finally:
        page.close()
    seen["console"] = console
    return seen, sorted(statuses)


def status(server: LiveServer) -> dict[str, Any]:
    answer: dict[str, Any] = httpx.get(f"{server.url}/ecsim/api/status").json()
    return answer


POSTS = ["/", "/", "/ecsim/api/time/pause", "/ecsim/ui/command"]


@pytest.mark.parametrize("site_host", ["localhost", "127.0.0.1"])  # cross-site, same-site
def test_a_real_page_of_another_site_cannot_drive_the_server(
    browser: Any, attacker: AttackerSite, server: LiveServer, site_host: str
) -> None:
    attacker.aim(server)
    seen, statuses = visit(browser, f"http://{site_host}:{attacker.port}/", server)
    console = seen.pop("console")
    assert seen == {"ws": "closed", "fetch": "opaque,opaque", "forms": 2}  # no socket opened
    assert any("Unexpected response code: 403" in line for line in console), console
    assert statuses == [(path, 403) for path in POSTS]
    time.sleep(0.5)
    now = status(server)
    assert not now["paused"] and now["speed"] == 60
    assert controller(server) == "ACTIVE"
    assert "evil-tg" not in target_groups(server)
    assert "evil-sg" not in security_groups(server)


def test_the_same_page_drives_a_server_that_allows_its_origin(
    browser: Any, attacker: AttackerSite
) -> None:
    """The control: each attack is real, and `--allow-origin` is what lets it through."""
    server = Serve(
        world="demo", rate=1.0, speed=60, allow_origins=(f"http://localhost:{attacker.port}",)
    ).start()
    try:
        attacker.aim(server)
        seen, statuses = visit(browser, f"http://localhost:{attacker.port}/", server)
        assert seen["wsOpened"] and seen["ws"] == "answered result"
        assert statuses == [(path, 200) for path in POSTS]
        now = status(server)
        assert now["paused"] and now["speed"] == 7
        assert controller(server) == "CRASHED"
        assert "evil-tg" in target_groups(server)
        assert "evil-sg" in security_groups(server)
    finally:
        server.stop()
