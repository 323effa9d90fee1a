"""Jinja filters that turn numbers and times into text people read at a glance."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Flask

HTMX_JS = "vendor/htmx-2.0.11.min.js"  # pinned; see static/vendor/README.md


def init_app(app: Flask) -> None:
    app.jinja_env.filters.update(num=num, duration=duration, pct=pct, when=when, ago=ago)
    app.jinja_env.globals.update(HTMX_JS=HTMX_JS)


def num(value: float | int | None, empty: str = "—") -> str:
    """1234 -> '1,234'; 12.5 -> '12.5'; None -> '—'."""
    if value is None:
        return empty
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def duration(seconds: float | None, empty: str = "—") -> str:
    """Seconds as '4.2 s', '3 min 05 s' or '2 h 03 min'."""
    if seconds is None:
        return empty
    seconds = max(0.0, float(seconds))
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def pct(fraction: float | None, empty: str = "—") -> str:
    """0.0321 -> '3.2 %'; exactly 0 -> '0 %'."""
    if fraction is None:
        return empty
    if fraction == 0:
        return "0 %"
    if fraction < 0.001:
        return "< 0.1 %"
    return f"{fraction * 100:.1f} %" if fraction < 10 else f"{fraction * 100:,.0f} %"


def aware(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; they were stored in UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def when(value: datetime | None, empty: str = "—") -> str:
    """A timestamp as 'YYYY-MM-DD HH:MM:SS UTC'."""
    value = aware(value)
    return value.strftime("%Y-%m-%d %H:%M:%S UTC") if value else empty


def ago(value: datetime | None, now: datetime | None = None) -> str:
    """'just now', '5 min ago', '3 h ago', then the date."""
    value = aware(value)
    if value is None:
        return "—"
    seconds = ((now or datetime.now(UTC)) - value).total_seconds()
    if seconds < 45:
        return "just now"
    if seconds < 3600:
        return f"{max(1, round(seconds / 60))} min ago"
    if seconds < 86400:
        return f"{int(seconds // 3600)} h ago"
    return value.strftime("%Y-%m-%d")
