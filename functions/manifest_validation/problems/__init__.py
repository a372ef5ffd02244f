"""Problems and their catalog: what every check reports (code, severity, line, field, message,
hint), every rule code with its why and fix, and the status a list of problems gives."""
