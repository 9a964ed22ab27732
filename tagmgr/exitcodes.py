"""Exit codes: documented in docs/reference/exit-codes.md and stable across releases."""

OK = 0  # plan: a valid plan, tags to create or not (a CI step passes it)
FAILURE = 1  # invalid input, conflicts, missing sources, registry or git errors
CHANGES_PENDING = 2  # a dry run: plan --detailed-exitcode, promote --dry-run, expire, pin-refs,
# versions update; check: a tag moved; diff: the images really differ
BUG = 3  # an unexpected exception: a bug in tagmgr
SUPERSEDED = 4  # promote/rollback: another writer moved the environment elsewhere meanwhile
USAGE = 64  # bad command line (sysexits' EX_USAGE); 2 already means "changes pending"
INTERRUPTED = 130  # SIGINT (Ctrl-C): 128 + 2, as a shell reports it
TERMINATED = 143  # SIGTERM (a cancelled CI job): 128 + 15
