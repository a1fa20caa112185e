"""Many agents and reviewers on one store (issue 12 item 5): the processes and the checks."""
