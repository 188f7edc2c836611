"""Liquidation research helpers: sources -> store -> metrics -> plots -> notebooks -> report.

Data flows one way. ``sources`` turn wire formats into the canonical tables
(:mod:`helpers.schema`), :mod:`helpers.store` keeps them as Parquet, :mod:`helpers.aggregate`
builds bars and loads them one source per venue and bar (:mod:`helpers.precedence`, venue
families in :mod:`helpers.venues`), :mod:`helpers.metrics` (``imbalance``, ``venues``,
``coverage``, ``marketmap``, ``clusters``, ``outlook``) answer one question each,
:mod:`helpers.plots` draws them, notebooks narrate, and :mod:`helpers.report` renders the
notebooks into dated HTML.
"""

__version__ = "0.1.0"
