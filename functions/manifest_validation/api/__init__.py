"""The HTTP API, framework-free: `validations` (requests and answers of POST /v1/validations),
`json_limits` (bounded request bodies), `auth` (bearer tokens), `webhook` (GitHub pushes)."""
