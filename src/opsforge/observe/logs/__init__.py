"""Log analysis: parse lines into ECS records, mine templates, find anomalies, ship, tail.

``mine_lines(lines)`` gives each line's template id (``result.assignments``) and the
templates (``result.miner.templates[id].text``, e.g. ``Invalid user <*> from <*>``);
``parse_file(path)`` gives the detected format and the records; ``LogAnalyzer`` turns
records into :class:`Anomaly` reports; ``Shipper`` moves files to Elasticsearch or Loki
through a :class:`Spool`.
"""

from __future__ import annotations

from opsforge.observe.logs.analysis import LogAnalyzer
from opsforge.observe.logs.anomalies import Anomaly, AnomalyConfig, AnomalyDetector
from opsforge.observe.logs.formats import FORMATS
from opsforge.observe.logs.grok import GrokError, GrokLibrary, GrokPattern
from opsforge.observe.logs.headers import HeaderDetector, HeaderSplitter
from opsforge.observe.logs.masking import mask
from opsforge.observe.logs.miner import MinerConfig, Template, TemplateMiner
from opsforge.observe.logs.mining import MiningResult, mine_file, mine_lines
from opsforge.observe.logs.parsing import choose_parser, parse_file, parse_lines
from opsforge.observe.logs.shipper import Shipper, ShipStats
from opsforge.observe.logs.sinks import ElasticsearchSink, LokiSink, ShipError
from opsforge.observe.logs.spool import Spool
from opsforge.observe.logs.template_store import TemplateStore

__all__ = [
    "FORMATS",
    "Anomaly",
    "AnomalyConfig",
    "AnomalyDetector",
    "ElasticsearchSink",
    "GrokError",
    "GrokLibrary",
    "GrokPattern",
    "HeaderDetector",
    "HeaderSplitter",
    "LogAnalyzer",
    "LokiSink",
    "MinerConfig",
    "MiningResult",
    "ShipError",
    "ShipStats",
    "Shipper",
    "Spool",
    "Template",
    "TemplateMiner",
    "TemplateStore",
    "choose_parser",
    "mask",
    "mine_file",
    "mine_lines",
    "parse_file",
    "parse_lines",
]
