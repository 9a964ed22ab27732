"""The image lifecycle beyond creating tags: environments, promotion, what is in use, expiry."""

MAX_DAYS = 36_500
"""The most days a policy rule or ``--keep-newer-than`` counts back: 100 years, older than any
image. A bound, so that no number a person writes makes a date before the calendar starts."""

MAX_IMAGES = 1_000_000
"""The most images an ``imageCountMoreThan`` rule keeps."""
