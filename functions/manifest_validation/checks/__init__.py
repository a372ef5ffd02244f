"""The checks, pure (no AWS, no I/O but what the caller passes in): `pipeline` runs them on a
manifest (`schema`, `rules`, `git` for upstream refs, `builds` with `dockerfile` for parents);
`docs` checks an image's docs folder."""
