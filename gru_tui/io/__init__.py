"""Reading what users give gru-tui (inputs, states, presets) and writing records."""
