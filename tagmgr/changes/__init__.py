"""Did a rebuild really change? Streamed layer walks, noise-free comparison, the versions file."""
