"""AWS Lambda handlers: thin doors that parse the event with Powertools and call the core."""
