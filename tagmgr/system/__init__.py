"""The machine underneath: subprocesses (git included), signals, threads, logs, the Docker host."""
