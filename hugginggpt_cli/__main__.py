"""`python -m hugginggpt_cli`: the `hugginggpt` command without its console script."""

from hugginggpt_cli.command import main

raise SystemExit(main())
