"""Deterministic demo territory: writes exchange files (IPE, GraceTHD, registers), never the DB."""
