"""The demo collection postercensus draws itself (`collection`) and the demo's check of what the
pipeline found against what was drawn (`check`). The `demo` command that runs them lives in
`postercensus.cli.demo`; nothing here prints or parses options."""
