"""Yearly documents (issue #14): figures, charts, maps, HTML and PDF."""
