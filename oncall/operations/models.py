"""Worker heartbeats: one row per worker process (`oncall worker`, or the worker inside a web process)."""
from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from oncall.db import Base


class WorkerHeartbeat(Base):
    """Written by the process itself every HEARTBEAT_SECONDS with the database's clock, never the host's, so
    that ages compared by other processes on other hosts mean what they say."""

    __tablename__ = "worker_heartbeats"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # random per process start
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    version: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime]
    last_seen_at: Mapped[datetime] = mapped_column(index=True)
