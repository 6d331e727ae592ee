"""Entry point for `pulumi up` / `pulumi preview` (Pulumi.yaml: `main: infra/`)."""

import pulumi
from pydantic import ValidationError

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
except ValidationError as error:
    # Settings validate everything the program derives before it registers anything; reaching here is a bug
    # in that validation, reported as plainly as a config error rather than as a traceback.
    lines = [f"  {'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors(include_url=False)]
    raise pulumi.RunError(
        "a value the settings accepted was refused while building the platform (please report this):\n"
        + "\n".join(lines)
    ) from None
