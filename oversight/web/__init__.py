"""The review web app (`oversight serve`, the `web` extra): sessions, timelines, autonomy and
approvals in the browser, votes signed by reviewers' passkeys, not by the server."""
