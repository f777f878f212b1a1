"""What the API client tells the progress line (target_twenty.progress): the requests made and
how many of the rate limit the last minute used."""

from __future__ import annotations

from target_twenty.api.client import TwentyClient


class ClientGauge:
    """A :class:`~target_twenty.progress.RequestGauge` over this run's client."""

    def __init__(self, client: TwentyClient) -> None:
        self.client = client

    def requests_made(self) -> int:
        return self.client.stats.requests

    def requests_in_window(self) -> int:
        return self.client.pacer.used_in_window()

    def requests_limit(self) -> int | None:
        return self.client.pacer.limit
