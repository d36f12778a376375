"""`python -m storyreel_workflow`: the same as `storyreel-workflow`."""

from storyreel_workflow.main import main

main()
