"""Human approvals: reviewer credentials, signed votes, and the wait for a decision."""
