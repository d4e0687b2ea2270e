from authlint.cli import main

main()
