"""The book's tests and the one way to run a chapter from them (see harness.py)."""
