"""`python -m storyreel_script`: the same as `storyreel-script`."""

from storyreel_script.main import main

main()
