"""Rewrite the golden demo summary from a rendered ``summary.json`` (a deliberate change).

Usage: ``python tests/golden/update.py reports/2025-11-16/summary.json``
"""

import json
import sys
from pathlib import Path

summary = json.loads(Path(sys.argv[1]).read_text())
golden = {
    "window": summary["window"],
    "simulated": summary["simulated"],
    "sources": summary["sources"],
    "figures": {nb: v["figures"] for nb, v in summary["notebooks"].items()},
    "claims": summary["claims"],
}
out = Path(__file__).with_name("article_seed7_summary.json")
out.write_text(json.dumps(golden, indent=1, sort_keys=True) + "\n")
print(f"wrote {out}")
