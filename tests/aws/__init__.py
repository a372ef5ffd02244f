"""A local AWS for the functions: one moto server per test run, the stack's resources made as
template.yaml defines them, a Lambda-like SQS poller, a results reader, and fault injection at
the HTTP boundary (a small proxy between the code under test and moto).

Everything that names the package's internals is in `doors.py`.
"""
