"""The image lifecycle beyond creating tags: environments, promotion, what is in use, expiry."""
