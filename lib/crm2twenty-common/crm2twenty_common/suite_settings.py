"""Settings every plugin of the suite has, added to its config schema in one place.

- ``metrics_log_level`` (every plugin): the SDK logs a ``METRIC`` JSON line per stream and
  request at INFO (docs/singer-meltano.md §1.8), which drowns a run's own lines; the suite's
  plugins log them only when this setting asks for ``INFO`` (or ``DEBUG``).
- ``side_streams`` (every tap): whether the tap also emits the ``_rejects`` and ``_notices``
  side streams that target-twenty reads (docs/singer-meltano.md §2.10). Off by default, so that
  a tap piped into any other target sends only its data streams; this project's meltano.yml
  turns it on.
"""

from __future__ import annotations

import logging
import os
import typing as t

from singer_sdk import typing as th

__all__ = ["METRICS_LOG_LEVEL", "SIDE_STREAMS", "QuietMetrics", "SideStreamsSetting"]

METRICS_LOG_LEVEL = "metrics_log_level"
SIDE_STREAMS = "side_streams"
_QUIET = "WARNING"  # above the INFO the SDK's METRIC lines are logged at
_LEVELS = ["DEBUG", "INFO", "WARNING"]


def _add(config_jsonschema: dict, prop: th.Property) -> None:
    schema = th.PropertiesList(prop).to_dict()
    config_jsonschema.setdefault("properties", {}).update(schema["properties"])


class QuietMetrics:
    """Mixin for a singer-sdk plugin (before the SDK class among the bases): its ``METRIC``
    lines are off unless ``metrics_log_level`` asks for them."""

    @classmethod
    def append_builtin_config(cls, config_jsonschema: dict) -> None:
        super().append_builtin_config(config_jsonschema)  # type: ignore[misc]
        _add(
            config_jsonschema,
            th.Property(
                METRICS_LOG_LEVEL,
                th.StringType,
                default=_QUIET,
                allowed_values=_LEVELS,
                description="Level of the SDK's `METRIC` log lines (record counts and request "
                "timings as JSON): `INFO` shows them, the default `WARNING` leaves them out.",
            ),
        )

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        # The SDK sets its metrics logger to the plugin's log level while it builds the plugin
        # (PluginBase.__init__): this comes after, and ``metrics_logger`` is its public handle.
        level = str(self.config.get(METRICS_LOG_LEVEL) or _QUIET).upper()  # type: ignore[attr-defined]
        metrics_logger: logging.Logger = self.metrics_logger  # type: ignore[attr-defined]
        metrics_logger.setLevel(level if level in _LEVELS else _QUIET)


class SideStreamsSetting:
    """Mixin for a tap of the suite: the ``side_streams`` setting (see the module docstring)."""

    @classmethod
    def append_builtin_config(cls, config_jsonschema: dict) -> None:
        super().append_builtin_config(config_jsonschema)  # type: ignore[misc]
        _add(
            config_jsonschema,
            th.Property(
                SIDE_STREAMS,
                th.BooleanType,
                default=False,
                description="Also emit the `_rejects` stream (rows that could not be read, "
                "with the reason and where they are) and the `_notices` stream (what the "
                "migration report must say, and whether the tap read everything), which "
                "target-twenty needs. Off: bad rows are logged, and only the data streams "
                "are sent (for any other target).",
            ),
        )

    @property
    def side_streams(self) -> bool:
        """Whether this run emits the side streams."""
        return bool(self.config.get(SIDE_STREAMS))  # type: ignore[attr-defined]

    @classmethod
    def side_streams_asked(cls, config: dict[str, t.Any], parse_env: bool) -> bool:
        """The setting from the raw configuration, before the plugin is built (its
        completion notices go out first): the merged config files, then the environment
        (``<PLUGIN>_SIDE_STREAMS``) when ``--config ENV`` is given, as the SDK reads them."""
        value: t.Any = config.get(SIDE_STREAMS)
        if parse_env:
            name = cls.name.upper().replace("-", "_") + "_" + SIDE_STREAMS.upper()  # type: ignore[attr-defined]
            if name in os.environ:
                value = os.environ[name]
        if isinstance(value, str):
            return value.strip().lower() in ("1", "true", "yes", "on")
        return bool(value)
