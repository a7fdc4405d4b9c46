"""Facts about the database the service runs on."""

from __future__ import annotations

from sqlalchemy import Connection, text


def database_health(conn: Connection) -> dict[str, object]:
    row = conn.execute(
        text(
            "SELECT current_setting('server_version') AS postgresql, postgis_lib_version() AS postgis,"
            " (SELECT version_num FROM alembic_version LIMIT 1) AS schema,"
            " (SELECT count(*) FROM territory) AS territories,"
            " (SELECT count(*) FROM commune) AS communes"
        )
    ).one()
    return {
        "database": "ok",
        "postgresql": row.postgresql,
        "postgis": row.postgis,
        "schema_revision": row.schema,
        "territoires": row.territories,
        "communes": row.communes,
    }
