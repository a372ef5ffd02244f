"""Library definition files, exactly as bashbrew reads them: `reader` (lines and paragraphs) ->
`parse` (values, inheritance) -> `model` (Manifest, Entry; the whole format in its docstring);
`cat` prints the canonical text; `architectures` and `library` (the other official images)."""
