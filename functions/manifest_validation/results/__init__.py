"""What the checks produce for the outside: result `messages` (the versioned contract with the
publishing side), their `origin`, `report`s for people and CI, and the `queues` they go to."""
