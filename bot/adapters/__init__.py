"""Chat adapters: each turns its platform's events into core calls, core results into messages."""
