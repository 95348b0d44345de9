"""`ecsim run --report DIR`: one self-contained HTML page (plots embedded as PNG data URIs)
with the explanation, the plots, the summary, the expectations, the service events, the
auto scaling activities and the timeline. The plots are also written next to it as PNG files."""

from __future__ import annotations

import base64
import html
from pathlib import Path
from typing import Any

from ecsim.cli.narrate import summary_lines, timeline
from ecsim.cli.plots import figures
from ecsim.cli.timeline import clock
from ecsim.scenario.runner import Result
from ecsim.scenario.wording import scaling_text

TITLES = {
    "tasks": "Tasks per service: desired, pending, running",
    "targets": "Targets per target group, by health state",
    "requests": "Requests per second, by answer",
    "latency": "Latency p50 / p99",
}
STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1150px; color: #222; }
h1 { margin-bottom: 0.2em; } .sub { color: #555; margin-top: 0; }
.explanation { white-space: pre-wrap; background: #f6f8fa; padding: 1em; border-radius: 6px; }
img { max-width: 100%; } pre { background: #f6f8fa; padding: 0.8em; overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: 0.9em; }
td, th { border-bottom: 1px solid #ddd; padding: 3px 6px; text-align: left; vertical-align: top; }
.pass { color: #1a7f37; font-weight: bold; } .fail { color: #cf222e; font-weight: bold; }
"""


def _e(text: Any) -> str:
    return html.escape(str(text))


def render(result: Result, summary: dict[str, Any], plots: dict[str, bytes]) -> str:
    s = result.scenario
    verdict = (
        '<span class="pass">PASSED</span>' if result.passed else '<span class="fail">FAILED</span>'
    )
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>ecsim: {_e(s.name)}</title><style>{STYLE}</style></head><body>",
        f"<h1>{_e(s.name)} {verdict}</h1>",
        f'<p class="sub">{_e(s.summary)} Seed {result.world.seed}, '
        f"{_e(clock(result.end).strip())} of simulated time (m:ss).</p>",
    ]
    if s.explanation:
        parts.append(f'<div class="explanation">{_e(s.explanation.strip())}</div>')
    for name, data in plots.items():
        uri = "data:image/png;base64," + base64.b64encode(data).decode("ascii")
        parts.append(f'<h2>{_e(TITLES[name])}</h2><img alt={_e(name)!r} src="{uri}">')
    parts.append("<h2>Summary</h2><pre>" + _e("\n".join(summary_lines(summary))) + "</pre>")
    parts.append(
        "<h2>Expectations</h2><table><tr><th></th><th>expectation</th><th>detail</th></tr>"
    )
    for o in summary["expectations"]:
        mark = '<span class="pass">PASS</span>' if o["passed"] else '<span class="fail">FAIL</span>'
        parts.append(
            f"<tr><td>{mark}</td><td>{_e(o['expect'])}</td><td>{_e(o['detail'])}</td></tr>"
        )
    parts.append("</table>")
    parts.append(
        "<h2>Service events</h2><table><tr><th>time</th><th>service</th><th>message</th></tr>"
    )
    for e in result.fold.service_events:
        t = e.time - result.t0
        if t >= 0:
            parts.append(
                f"<tr><td>{_e(clock(t).strip())}</td><td>{_e(e.service)}</td><td>{_e(e.message)}</td></tr>"
            )
    parts.append("</table>")
    if result.fold.scaling_activities:
        parts.append(
            "<h2>Auto scaling activities</h2><table><tr><th>time</th><th>activity</th>"
            "<th>cause</th></tr>"
        )
        for a in result.fold.scaling_activities:
            parts.append(
                f"<tr><td>{_e(clock(a.time - result.t0).strip())}</td>"
                f"<td>{_e(scaling_text(a))}</td><td>{_e(a.cause)}</td></tr>"
            )
        parts.append("</table>")
    parts.append("<h2>Timeline</h2><table><tr><th>time</th><th>what</th></tr>")
    for item in timeline(result):
        parts.append(f"<tr><td>{_e(clock(item['t']).strip())}</td><td>{_e(item['text'])}</td></tr>")
    parts.append("</table></body></html>")
    return "\n".join(parts)


def write_report(result: Result, summary: dict[str, Any], folder: Path) -> Path:
    """Write `report.html` (and the plots as PNG files) into `folder`; the page's path."""
    folder.mkdir(parents=True, exist_ok=True)
    plots = figures(result)
    for name, data in plots.items():
        (folder / f"{name}.png").write_bytes(data)
    page = folder / "report.html"
    page.write_text(render(result, summary, plots), "utf-8")
    return page
