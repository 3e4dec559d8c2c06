from hotline.entrypoints.cli import main

main()
