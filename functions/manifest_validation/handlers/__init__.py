"""The doors that AWS Lambda calls (api, worker, revalidate), the composition root that builds
their services, and the local server that feeds the api handler over HTTP."""
