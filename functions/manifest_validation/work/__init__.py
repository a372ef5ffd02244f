"""Work done later or elsewhere: `jobs` on the work queue, the `worker` that runs them, and the
scheduled `revalidate` fan-out."""
