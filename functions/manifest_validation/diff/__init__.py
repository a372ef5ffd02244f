"""What a change to library files does, on the parsed model: `changes` computes it into
`model`, `git` compares commits of a manifests repository, `render` prints text, JSON, Markdown."""
