"""Figures for the notebooks; one module per question, shared look in :mod:`.style`."""
