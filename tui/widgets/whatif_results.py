"""The What-if screen's answer: a month priced four ways, the savings and the break-even share."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from routermon.core.formatting import pct, usd, usd_with_share
from routermon.core.measure.whatif import WhatIfResult


class WhatIfResults(Static):
    """A two-column table of monthly costs; ``show(None, message)`` explains why there is none."""

    DEFAULT_CSS = """
    WhatIfResults {
        height: auto;
        width: 1fr;
        padding: 0 1;
        &.-stale { text-opacity: 45%; }
    }
    """

    shown: WhatIfResult | None = None

    def show(self, result: WhatIfResult | None, message: str = "", *, stale: bool = False) -> None:
        """Show ``result`` (dimmed when ``stale``: the form no longer matches it), or ``message``."""
        self.set_class(stale, "-stale")
        self.shown = result
        if result is None:
            self.update(Text(message or "Fill in the fields to see a month priced.", style="italic"))
            return
        table = Table.grid(padding=(0, 1), expand=False)
        table.add_column("what", style="dim", no_wrap=True)
        table.add_column("usd", justify="right", no_wrap=True)
        table.add_row("Always strong", usd(result.always_strong_usd))
        table.add_row("Always cheap", usd(result.always_cheap_usd))
        table.add_row("Cascade", Text(usd(result.cascade_usd), style="bold"))
        if result.inputs.audit_share > 0:
            table.add_row(" of which audits", usd(result.audit_usd))
        table.add_row("Simple split", usd(result.simple_split_usd))
        saving_style = "bold green" if result.savings_usd > 0 else "bold red"
        table.add_row(
            "Savings", Text(usd_with_share(result.savings_usd, result.savings_share), style=saving_style)
        )
        share = result.break_even_cheap_share
        table.add_row("Break-even share", Text(pct(share) if share is not None else "never", style="bold"))
        self.update(table)
