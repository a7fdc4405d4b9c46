"""Accounts, roles and the identity of whoever writes (an `Actor`)."""

from geo_service.auth.actor import Actor, cli_actor

__all__ = ["Actor", "cli_actor"]
