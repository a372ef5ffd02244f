"""An image's folder in docker-library/docs, checked as that repository's CI checks it:
`folder` (the entry point), `metadata` and `jq` (metadata.json), `layout` (which files),
`checkout` (reading folders from disk)."""
