"""Entry point for `pulumi up` / `pulumi preview` (Pulumi.yaml: `main: infra/`)."""

import pulumi

from infra.collector import tune_for_run
from infra.errors import ConfigError
from infra.program import main

# The language host ends with the program, so the settings stay for the rest of the process.
tune_for_run()
try:
    main()
except ConfigError as error:
    # RunError prints the message alone: the user sees the problems, not a traceback.
    raise pulumi.RunError(str(error)) from None
