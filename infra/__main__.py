"""Entry point for `pulumi up` / `pulumi preview` (Pulumi.yaml: `main: infra/`)."""

import pulumi

from infra.errors import ConfigError
from infra.program import main

try:
    main()
except ConfigError as error:
    # RunError prints the message alone: the user sees the problems, not a traceback.
    raise pulumi.RunError(str(error)) from None
