from gru_tui.cli import main

main()
