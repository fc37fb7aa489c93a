"""Live market feeds (the replay and synthetic feeds are in :mod:`core.market.feed`)."""
