"""Local servers on 127.0.0.1 that speak venues' wire formats, for offline tests of real clients."""
