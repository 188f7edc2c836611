"""Metrics: one module per question a notebook answers, computed from the store's tables.

* :mod:`~helpers.metrics.imbalance` (package): how lopsided long vs short liquidations are
  per bar; the worst bar and its headline; spikes (notebook 01).
* :mod:`~helpers.metrics.venues`: which venues carry the liquidations and how complete each
  venue's data is (02).
* :mod:`~helpers.metrics.coverage`: which (venue, symbol) pairs a window expects and which
  reported in each bar; the data banner's venues, sources and share observed (every page).
* :mod:`~helpers.metrics.marketmap`: is the broad market risk-off (03).
* :mod:`~helpers.metrics.clusters`: where REALISED liquidations cluster by price, local lows
  and support zones (04).
* :mod:`~helpers.metrics.liquidation_map`: the ESTIMATED open liquidation map, modelled from
  open interest and stated leverage assumptions; never summed with the realised (04).
* :mod:`~helpers.metrics.outlook` (package): is stress turning into weakness (05).
* :mod:`~helpers.metrics.claims`: statements from the params file (``claims:``) tested
  against the window, each by the analysis of the page that shows it
  (:mod:`~helpers.metrics.claim_metrics`, the vocabulary) (00).
* :mod:`~helpers.metrics.worst_hour`, :mod:`~helpers.metrics.totals`,
  :mod:`~helpers.metrics.price_heatmap`: the worst bar and spikes by venue, the split by
  coin, 1h/4h/12h/24h totals and the time x price heatmap of realised liquidations
  (01, 02; built for the pages by :mod:`~helpers.metrics.views_analysis`).
* ``*_analysis`` modules: each notebook's analysis in one call and the key figures it
  reports; the summary notebook (00) calls the same functions
  (:mod:`~helpers.metrics.summary_analysis`).

Metrics read tables and return tables or small dataclasses; they never draw (that is
:mod:`helpers.plots`) and never fetch (that is :mod:`helpers.sources`). A metric that works
on a window takes its frame(s) first and the :class:`helpers.timegrid.Window` second, as
the plots do.
"""
