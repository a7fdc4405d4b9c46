"""geo_service: suivi du très haut débit (fibre, mobile, WiFi) pour les collectivités."""

__version__ = "0.1.0"
