"""Replay recorded Hubble flows against a policy set and report what would change (issue 9).

The public surface (STYLE.md rule 6):

* reading logs (``reader.py``, ref §4.3): :func:`read_flows`, :class:`ReadStats`;
* deduplicating them by what decides a verdict (``records.py``, ref §4.2): :class:`FlowLog`;
* mapping ends onto the home (``ends.py``): :class:`Resolver`, :class:`End`;
* batch verdicts from the compiled policy maps (``tables.py``): :class:`SideTables`;
* the replay (``evaluate.py``): :func:`replay`, :class:`ReplayResult`, :class:`KeyResult`;
* proposed policies (``scenario.py``): :func:`read_proposed`, :func:`scenario_mesh`;
* the report (``report.py``): :func:`build_report`, :func:`render_text`, :func:`render_markdown`;
* all of it in one call (``run.py``): :func:`run_replay`, :func:`read_log`.

Names are imported on first use (PEP 562) so that commands load only what they need.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cmesh._lazy import lazy_exports

_EXPORTS: dict[str, tuple[str, str]] = {
    "EGRESS": ("cmesh.replay.tables", "EGRESS"),
    "ENGINE_PROTOCOLS": ("cmesh.replay.tables", "ENGINE_PROTOCOLS"),
    "End": ("cmesh.replay.ends", "End"),
    "EndKind": ("cmesh.replay.ends", "EndKind"),
    "FlowLog": ("cmesh.replay.records", "FlowLog"),
    "INGRESS": ("cmesh.replay.tables", "INGRESS"),
    "KeyResult": ("cmesh.replay.evaluate", "KeyResult"),
    "Observed": ("cmesh.replay.records", "Observed"),
    "Outcome": ("cmesh.replay.evaluate", "Outcome"),
    "PROTOCOL_NAMES": ("cmesh.replay.records", "PROTOCOL_NAMES"),
    "Proposed": ("cmesh.replay.scenario", "Proposed"),
    "ReadStats": ("cmesh.replay.reader", "ReadStats"),
    "RecordKey": ("cmesh.replay.records", "RecordKey"),
    "ReplayResult": ("cmesh.replay.evaluate", "ReplayResult"),
    "Report": ("cmesh.replay.report", "Report"),
    "Resolver": ("cmesh.replay.ends", "Resolver"),
    "Run": ("cmesh.replay.run", "Run"),
    "Side": ("cmesh.replay.records", "Side"),
    "SideTables": ("cmesh.replay.tables", "SideTables"),
    "build_report": ("cmesh.replay.report", "build_report"),
    "flow_text": ("cmesh.replay.report", "flow_text"),
    "forget_learned_names": ("cmesh.replay.scenario", "forget_learned_names"),
    "import_proposed": ("cmesh.replay.scenario", "import_proposed"),
    "open_flows": ("cmesh.replay.reader", "open_flows"),
    "read_flows": ("cmesh.replay.reader", "read_flows"),
    "read_log": ("cmesh.replay.run", "read_log"),
    "read_proposed": ("cmesh.replay.scenario", "read_proposed"),
    "render_markdown": ("cmesh.replay.report", "render_markdown"),
    "render_text": ("cmesh.replay.report", "render_text"),
    "replay": ("cmesh.replay.evaluate", "replay"),
    "run_replay": ("cmesh.replay.run", "run_replay"),
    "scenario_mesh": ("cmesh.replay.scenario", "scenario_mesh"),
}

__all__ = [
    "EGRESS",
    "ENGINE_PROTOCOLS",
    "INGRESS",
    "PROTOCOL_NAMES",
    "End",
    "EndKind",
    "FlowLog",
    "KeyResult",
    "Observed",
    "Outcome",
    "Proposed",
    "ReadStats",
    "RecordKey",
    "ReplayResult",
    "Report",
    "Resolver",
    "Run",
    "Side",
    "SideTables",
    "build_report",
    "flow_text",
    "forget_learned_names",
    "import_proposed",
    "open_flows",
    "read_flows",
    "read_log",
    "read_proposed",
    "render_markdown",
    "render_text",
    "replay",
    "run_replay",
    "scenario_mesh",
]

if TYPE_CHECKING:
    from cmesh.replay.ends import End, EndKind, Resolver
    from cmesh.replay.evaluate import KeyResult, Outcome, ReplayResult, replay
    from cmesh.replay.reader import ReadStats, open_flows, read_flows
    from cmesh.replay.records import PROTOCOL_NAMES, FlowLog, Observed, RecordKey, Side
    from cmesh.replay.report import (
        Report,
        build_report,
        flow_text,
        render_markdown,
        render_text,
    )
    from cmesh.replay.run import Run, read_log, run_replay
    from cmesh.replay.scenario import (
        Proposed,
        forget_learned_names,
        import_proposed,
        read_proposed,
        scenario_mesh,
    )
    from cmesh.replay.tables import EGRESS, ENGINE_PROTOCOLS, INGRESS, SideTables


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
