"""waiters."""
