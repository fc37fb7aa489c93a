"""A loopback Kite Connect replica: HTTP routes and order matching, driven by the real client in tests."""
